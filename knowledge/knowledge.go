// Package knowledge owns changing a workspace's knowledge and keeping what
// is learned from it up to date. Every change goes through a Service (the
// API's uploads, jobs and deletes, `parley ingest`, the eval runner), and
// one rule follows it: after an ingest that wrote (not a dry run, not one
// deferred to a job) and after a delete, the workspace's intent classifier
// is brought up to date. The trainer retrains it when its labelled
// knowledge differs from what it learned, removes it when fewer than two
// intents are left, and otherwise leaves it. A training that fails is
// logged, with the request's or job's context; the change stands, and the
// next change trains again. Then, with a calibrator, the workspace's
// confidence calibration is refitted to the knowledge as it now is (see
// reply.Engine.Calibrate), under the same rule. Learning from resolutions
// (Learn, Decide) changes knowledge the same way: an approved phrasing is
// ingested as a source of the learned knowledge base.
package knowledge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/retrieval"
)

// Store deletes knowledge and keeps learned phrasings (postgres.DB).
type Store interface {
	DeleteKB(ctx context.Context, workspaceID, idOrName string) error
	DeleteSource(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) error
	LearningStore
}

// Trainer trains a workspace's intent classifier (retrieval.Trainer).
type Trainer interface {
	Train(ctx context.Context, workspaceID, model string) (retrieval.TrainResult, error)
}

// Calibrator refits a workspace's confidence calibration (reply.Engine).
type Calibrator interface {
	Calibrate(ctx context.Context, workspaceID string) (retrieval.Calibration, bool, error)
}

// Service changes knowledge through the ingest pipeline and the store,
// then retrains. Without a trainer it only changes knowledge (`parley eval
// --no-classifier`).
type Service struct {
	store      Store
	pipeline   *ingest.Pipeline
	trainer    Trainer // nil: no classifier
	calibrator Calibrator
	model      string // the embedder's, whose vectors the classifier learns
	log        *slog.Logger
}

// New returns a service writing through store and pipeline and training
// with trainer, which may be nil, on vectors of model. A nil log discards
// its log lines.
func New(store Store, pipeline *ingest.Pipeline, trainer Trainer, model string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, pipeline: pipeline, trainer: trainer, model: model, log: log}
}

// WithCalibrator makes the service refit the workspace's calibration with
// c after every change, and returns it.
func (s *Service) WithCalibrator(c Calibrator) *Service {
	s.calibrator = c
	return s
}

// Ingest runs req through the pipeline, then retrains when it wrote.
func (s *Service) Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error) {
	res, err := s.pipeline.Run(ctx, req)
	if err == nil && !req.DryRun && res.Deferred() == nil {
		s.retrain(ctx, req.WorkspaceID)
	}
	return res, err
}

// DeleteKB deletes a knowledge base with its content, then retrains.
func (s *Service) DeleteKB(ctx context.Context, workspaceID, idOrName string) error {
	if err := s.store.DeleteKB(ctx, workspaceID, idOrName); err != nil {
		return err
	}
	s.retrain(ctx, workspaceID)
	return nil
}

// DeleteSource deletes one source of a knowledge base, then retrains.
func (s *Service) DeleteSource(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) error {
	if err := s.store.DeleteSource(ctx, workspaceID, kbID, ref); err != nil {
		return err
	}
	s.retrain(ctx, workspaceID)
	return nil
}

// retrain brings the workspace's intent classifier, then its calibration,
// up to date with its knowledge and logs what it did. It runs to the end
// even when ctx is cancelled (a client hanging up): the change is
// committed, and what is learned from it should follow it.
func (s *Service) retrain(ctx context.Context, workspaceID string) {
	ctx = context.WithoutCancel(ctx)
	if s.trainer != nil {
		tr, err := s.trainer.Train(ctx, workspaceID, s.model)
		if err != nil {
			s.log.WarnContext(ctx, "intent classifier not retrained after a knowledge change; the change stands", "workspace_id", workspaceID, "err", err.Error())
		} else {
			s.log.InfoContext(ctx, tr.String(), "workspace_id", workspaceID)
		}
	}
	if s.calibrator == nil {
		return
	}
	c, ok, err := s.calibrator.Calibrate(ctx, workspaceID)
	switch {
	case err != nil:
		s.log.WarnContext(ctx, "calibration not refitted after a knowledge change; the change stands", "workspace_id", workspaceID, "err", err.Error())
	case ok:
		s.log.InfoContext(ctx, CalibrationSummary(c), "workspace_id", workspaceID)
	}
}

// CalibrationSummary describes a calibration for a person.
func CalibrationSummary(c retrieval.Calibration) string {
	if c.Threshold > 1 {
		return fmt.Sprintf("calibration: no confidence reaches precision %.2f on %d own questions and %d out-of-scope ones: the bot will not answer until the knowledge or the embedder improves",
			c.Target, c.Positives, c.Negatives)
	}
	return fmt.Sprintf("calibration: answers from confidence %.3f (precision %.3f, coverage %.3f on %d own questions and %d out-of-scope ones)",
		c.Threshold, c.Precision, c.Coverage, c.Positives, c.Negatives)
}
