// Package knowledge owns changing a workspace's knowledge and keeping what
// is learned from it up to date. Every change goes through a Service (the
// API's uploads, jobs and deletes, `parley ingest`, the eval runner), and
// one rule follows it: after an ingest that wrote (not a dry run, not one
// deferred to a job) and after a delete, the workspace's classifier and
// calibration are brought up to date (Retrain).
//
// Training (TrainNow) is two steps. The trainer retrains the intent
// classifier when its labelled knowledge differs from what it learned,
// removes it when fewer than two intents are left, and otherwise leaves
// it. Then, with a calibrator, the workspace's confidence calibration is
// refitted to the knowledge as it now is (see reply.Engine.Calibrate). A
// step that fails is logged, with the request's or job's context; the
// change stands, and the previous model keeps serving.
//
// With a training queue (`parley serve`, `parley ingest`), Retrain queues
// a training job (jobs.Train, one per workspace at a time, which calls
// TrainNow) and the change's request returns without waiting for it; `parley
// ingest` waits for the job. Without one (tests, tools), it trains in line.
//
// A workspace that grows through small ingests also needs an HNSW index
// of its own once its vectors outgrow exact search (postgres.DB's
// BuildVectorIndex): with an index queue, every ingest that wrote asks for
// one (jobs.VectorIndexEnqueuer queues a build only when it is needed).
//
// Learning from resolutions (Learn, Decide) changes knowledge the same
// way: an approved phrasing is ingested as a source of the learned
// knowledge base, and a training follows.
package knowledge

import (
	"context"
	"errors"
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

// TrainingQueue queues a workspace's training (jobs.TrainEnqueuer).
type TrainingQueue interface {
	QueueTraining(ctx context.Context, workspaceID string) error
}

// VectorIndexQueue queues a build of a workspace's own vector index when
// it needs one (jobs.VectorIndexEnqueuer).
type VectorIndexQueue interface {
	QueueVectorIndex(ctx context.Context, workspaceID, model string) error
}

// Service changes knowledge through the ingest pipeline and the store,
// then retrains. Without a trainer it only changes knowledge (`parley eval
// --no-classifier`).
type Service struct {
	store      Store
	pipeline   *ingest.Pipeline
	trainer    Trainer // nil: no classifier
	calibrator Calibrator
	queue      TrainingQueue    // nil: train in line
	indexes    VectorIndexQueue // nil: no index builds
	model      string           // the embedder's, whose vectors the classifier learns
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

// WithTrainingQueue makes the service queue a training job after every
// change instead of training in line, and returns it.
func (s *Service) WithTrainingQueue(q TrainingQueue) *Service {
	s.queue = q
	return s
}

// WithVectorIndexQueue makes the service queue a build of the
// workspace's own vector index after an ingest when it needs one, and
// returns it.
func (s *Service) WithVectorIndexQueue(q VectorIndexQueue) *Service {
	s.indexes = q
	return s
}

// Ingest runs req through the pipeline, then retrains when it wrote (and
// queues the workspace's index build, when it needs one).
func (s *Service) Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error) {
	res, err := s.pipeline.Run(ctx, req)
	if err == nil && !req.DryRun && res.Deferred() == nil {
		s.Retrain(ctx, req.WorkspaceID)
		if s.indexes != nil {
			if err := s.indexes.QueueVectorIndex(ctx, req.WorkspaceID, s.model); err != nil {
				s.log.WarnContext(ctx, "vector index build after an ingest not queued; the change stands", "workspace_id", req.WorkspaceID, "err", err.Error())
			}
		}
	}
	return res, err
}

// DeleteKB deletes a knowledge base with its content, then retrains.
func (s *Service) DeleteKB(ctx context.Context, workspaceID, idOrName string) error {
	if err := s.store.DeleteKB(ctx, workspaceID, idOrName); err != nil {
		return err
	}
	s.Retrain(ctx, workspaceID)
	return nil
}

// DeleteSource deletes one source of a knowledge base, then retrains.
func (s *Service) DeleteSource(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) error {
	if err := s.store.DeleteSource(ctx, workspaceID, kbID, ref); err != nil {
		return err
	}
	s.Retrain(ctx, workspaceID)
	return nil
}

// Retrain brings what is learned from a workspace's knowledge up to date
// after a change to it: it queues a training job, or, without a training
// queue, trains in line. It is what every change made through the service
// does (learned phrasings are added through Ingest); code that changes
// knowledge by other means calls it. Failures are logged, never returned:
// the change is committed, and stands. Training in line runs to the end
// even when ctx is cancelled (a client hanging up), and so does queueing.
func (s *Service) Retrain(ctx context.Context, workspaceID string) {
	if s.queue == nil {
		_ = s.TrainNow(context.WithoutCancel(ctx), workspaceID)
		return
	}
	if err := s.queue.QueueTraining(ctx, workspaceID); err != nil {
		s.log.WarnContext(ctx, "training after a knowledge change not queued or not finished; the change stands", "workspace_id", workspaceID, "err", err.Error())
	}
}

// TrainNow brings the workspace's intent classifier, then its
// calibration, up to date with its knowledge now, logs what it did, and
// returns what failed. Until a step succeeds, the previous model (or
// calibration) keeps serving.
func (s *Service) TrainNow(ctx context.Context, workspaceID string) error {
	var errs []error
	if s.trainer != nil {
		tr, err := s.trainer.Train(ctx, workspaceID, s.model)
		if err != nil {
			s.log.WarnContext(ctx, "intent classifier not retrained after a knowledge change; the change stands", "workspace_id", workspaceID, "err", err.Error())
			errs = append(errs, fmt.Errorf("train the intent classifier: %w", err))
		} else {
			s.log.InfoContext(ctx, tr.String(), "workspace_id", workspaceID)
		}
	}
	if s.calibrator == nil {
		return errors.Join(errs...)
	}
	c, ok, err := s.calibrator.Calibrate(ctx, workspaceID)
	switch {
	case err != nil:
		s.log.WarnContext(ctx, "calibration not refitted after a knowledge change; the change stands", "workspace_id", workspaceID, "err", err.Error())
		errs = append(errs, fmt.Errorf("refit the calibration: %w", err))
	case ok:
		s.log.InfoContext(ctx, CalibrationSummary(c), "workspace_id", workspaceID)
	}
	return errors.Join(errs...)
}

// CalibrationSummary describes a calibration for a person.
func CalibrationSummary(c retrieval.Calibration) string {
	if c.Threshold > 1 {
		return fmt.Sprintf("calibration: no confidence reaches precision %.2f on %d own questions, %d out-of-scope ones and %d off-subject ones: the bot will not answer until the knowledge or the embedder improves",
			c.Target, c.Positives, c.Negatives, c.OffSubject)
	}
	return fmt.Sprintf("calibration: answers from confidence %.3f and similarity %.3f (precision %.3f, coverage %.3f on %d own questions; escalation recall %.3f on %d out-of-scope and %d off-subject ones)",
		c.Threshold, c.AnswerSimilarity, c.Precision, c.Coverage, c.Positives, c.EscalationRecall, c.Negatives, c.OffSubject)
}
