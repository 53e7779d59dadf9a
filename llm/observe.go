package llm

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley"
)

// Metrics are the chat-model collectors: tokens by model and kind (prompt
// or completion), requests by model and status (ok or an error code), and
// latency by model.
type Metrics struct {
	tokens   *prometheus.CounterVec
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the chat-model collectors on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_llm_tokens_total",
			Help: "Chat-model tokens by model and kind (prompt, completion).",
		}, []string{"model", "kind"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_llm_requests_total",
			Help: "Chat-model requests by model and status (ok, or the error code: unavailable, timeout, invalid, canceled).",
		}, []string{"model", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_llm_request_duration_seconds",
			Help:    "Chat-model request latency by model, retries included.",
			Buckets: []float64{.1, .25, .5, 1, 2, 4, 8, 15, 30, 60, 120},
		}, []string{"model"}),
	}
	for _, c := range []prometheus.Collector{m.tokens, m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe wraps a chat model so that every request is logged (task, model,
// tokens, duration, status; never the prompt) and counted in m. Token
// counts the server does not report are estimated with tok. m may be nil:
// then it only logs.
func Observe(model ChatModel, name string, m *Metrics, tok *Tokenizer, log *slog.Logger) ChatModel {
	return &observed{next: model, name: name, m: m, tok: tok, log: log}
}

type observed struct {
	next ChatModel
	name string
	m    *Metrics
	tok  *Tokenizer
	log  *slog.Logger
}

func (o *observed) Complete(ctx context.Context, msgs []Message, opts Options) (Completion, error) {
	start := time.Now()
	c, err := o.next.Complete(ctx, msgs, opts)
	o.record(ctx, msgs, opts, c, err, time.Since(start), false)
	return c, err
}

func (o *observed) Stream(ctx context.Context, msgs []Message, opts Options, onDelta func(string) error) (Completion, error) {
	start := time.Now()
	c, err := o.next.Stream(ctx, msgs, opts, onDelta)
	o.record(ctx, msgs, opts, c, err, time.Since(start), true)
	return c, err
}

func (o *observed) record(ctx context.Context, msgs []Message, opts Options, c Completion, err error, elapsed time.Duration, stream bool) {
	status := "ok"
	switch {
	case errors.Is(err, context.Canceled):
		status = "canceled"
	case err != nil:
		status = parley.ErrorCode(err)
	}
	if c.PromptTokens == 0 && o.tok != nil && (err == nil || c.Text != "") {
		c.PromptTokens = o.tok.CountMessages(msgs) // the server did not say
	}
	if c.CompletionTokens == 0 && c.Text != "" && o.tok != nil {
		c.CompletionTokens = o.tok.Count(c.Text)
	}
	if o.m != nil {
		o.m.requests.WithLabelValues(o.name, status).Inc()
		o.m.latency.WithLabelValues(o.name).Observe(elapsed.Seconds())
		o.m.tokens.WithLabelValues(o.name, "prompt").Add(float64(c.PromptTokens))
		o.m.tokens.WithLabelValues(o.name, "completion").Add(float64(c.CompletionTokens))
	}
	attrs := []slog.Attr{
		slog.String("task", opts.Task),
		slog.String("model", o.name),
		slog.Bool("stream", stream),
		slog.String("status", status),
		slog.Int("prompt_tokens", c.PromptTokens),
		slog.Int("completion_tokens", c.CompletionTokens),
		slog.Float64("ms", float64(elapsed.Microseconds())/1000),
	}
	level := slog.LevelInfo
	if err != nil && status != "canceled" {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	o.log.LogAttrs(ctx, level, "chat model request", attrs...)
}
