package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// newPipeline returns the ingest pipeline writing to db with the embedder's
// vectors, and the tokenizer its chunker counts with.
func newPipeline(db *postgres.DB, embedder retrieval.Embedder) (*ingest.Pipeline, *llm.Tokenizer, error) {
	tok, err := llm.NewTokenizer()
	if err != nil {
		return nil, nil, err
	}
	return ingest.NewPipeline(db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{})), tok, nil
}

// newKnowledge returns the knowledge service every command changes
// knowledge through: writing with pipeline and, with classifier, training
// the workspaces' intent classifiers on embedder's vectors after a change.
func newKnowledge(a *app, db *postgres.DB, pipeline *ingest.Pipeline, embedder retrieval.Embedder, classifier bool) *knowledge.Service {
	var trainer knowledge.Trainer
	opts := reply.Options{Calibrations: db, Logger: a.log}
	if classifier {
		trainer = retrieval.NewTrainer(db, retrieval.TrainOptions{})
		opts.Classifiers = db
	}
	// Calibration asks the workspace's own questions through an engine
	// ranking as the answering one does.
	return knowledge.New(db, pipeline, trainer, embedder.Model(), a.log).WithCalibrator(reply.New(db, embedder, opts))
}

// queueTrainings makes know queue a training job after every change, for
// the training workers of `parley serve`. With wait, this process works
// the training queue too, and each change waits until its training has
// run (here or in a server) or failed: `parley ingest` returns with the
// model trained. Builds of a workspace's own vector index are queued on
// the same queue (and run here too while it waits). stop stops the queue.
func queueTrainings(ctx context.Context, a *app, db *postgres.DB, know *knowledge.Service, wait bool) (stop func(), err error) {
	train := jobs.NewTrain(db, know, a.log)
	indexes := jobs.NewVectorIndex(db, a.cfg.IngestJobTimeout, a.log)
	opts := postgres.QueueOptions{TrainingOnly: true, JobTimeout: a.cfg.IngestJobTimeout, PollInterval: 200 * time.Millisecond, Logger: a.log}
	if wait {
		opts.Workers = river.NewWorkers()
		train.Register(opts.Workers)
		indexes.Register(opts.Workers)
	}
	queue, err := postgres.NewQueue(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	know.WithVectorIndexQueue(indexes.On(queue))
	if !wait {
		know.WithTrainingQueue(train.On(queue, nil))
		return func() {}, nil
	}
	if err := queue.Start(ctx); err != nil {
		return nil, err
	}
	know.WithTrainingQueue(train.On(queue, queue))
	return func() {
		if err := queue.Stop(context.WithoutCancel(ctx)); err != nil {
			a.log.Warn("stop the training queue", "err", err.Error())
		}
	}, nil
}

// newEmbedder returns the configured embedder: the local one, or an
// OpenAI-compatible endpoint.
func newEmbedder(cfg Config) (retrieval.Embedder, error) {
	if cfg.Embedder != "openai" {
		return retrieval.NewLocal(), nil
	}
	e, err := openai.NewEmbedder(openai.Config{
		BaseURL:         cfg.Embed.BaseURL,
		APIKey:          cfg.Embed.APIKey,
		Model:           cfg.Embed.Model,
		AzureDeployment: cfg.Embed.AzureDeployment,
		APIVersion:      cfg.LLM.APIVersion,
		Timeout:         cfg.LLM.Timeout,
		MaxRetries:      retries(cfg.LLM.MaxRetries),
	}, cfg.Embed.Dimensions)
	if err != nil {
		return nil, fmt.Errorf("embedder: %w", err)
	}
	return e, nil
}

// newChatModel returns the configured chat model, or nil when there is
// none.
func newChatModel(cfg Config) (llm.ChatModel, error) {
	if !cfg.LLM.Enabled() {
		return nil, nil
	}
	m, err := openai.NewChatModel(openai.Config{
		BaseURL:         cfg.LLM.BaseURL,
		APIKey:          cfg.LLM.APIKey,
		Model:           cfg.LLM.Model,
		AzureDeployment: cfg.LLM.AzureDeployment,
		APIVersion:      cfg.LLM.APIVersion,
		Timeout:         cfg.LLM.Timeout,
		MaxRetries:      retries(cfg.LLM.MaxRetries),
	})
	if err != nil {
		return nil, fmt.Errorf("chat model: %w", err)
	}
	return m, nil
}

// newDrafter wires what asks the chat model: the configured model, if
// any, logged and counted on reg, and the prompt renderer. The grounder it
// returns, for the reply engine's generated answers, is nil when no model
// is configured.
func newDrafter(cfg Config, log *slog.Logger, tok *llm.Tokenizer, reg prometheus.Registerer) (*assist.Drafter, reply.Grounder, error) {
	model, err := newChatModel(cfg)
	if err != nil {
		return nil, nil, err
	}
	render, err := prompts.NewRenderer(tok, prompts.RendererOptions{ContextTokens: cfg.LLM.ContextTokens})
	if err != nil {
		return nil, nil, err
	}
	metrics, err := llm.NewMetrics(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("register chat-model metrics: %w", err)
	}
	if model == nil {
		log.Info("no chat model configured: answers and suggestions come from the knowledge only; translate, rewrite and summary answer 503")
		return assist.NewDrafter(nil, render, log), nil, nil
	}
	log.Info("chat model", "model", cfg.LLM.Model, "base_url", redactURL(cfg.LLM.BaseURL), "context_tokens", cfg.LLM.ContextTokens)
	d := assist.NewDrafter(llm.Observe(model, cfg.LLM.Model, metrics, tok, log), render, log)
	return d, d, nil
}

// retries maps PARLEY_LLM_MAX_RETRIES, where 0 means none, to
// openai.Config, where 0 means the default.
func retries(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
