package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleyhq/parley/postgres"
)

// TrainArgs is the queue message of a training: bring what is learned from
// a workspace's knowledge (its intent classifier, then its confidence
// calibration) up to date with it.
type TrainArgs struct {
	WorkspaceID string `json:"workspace_id"`
}

// Kind names training jobs on the queue.
func (TrainArgs) Kind() string { return "train" }

// TrainAttempts is how many times a training that keeps failing runs
// (River's backoff between attempts: 1 s, 16 s, 81 s, 256 s).
const TrainAttempts = 5

// InsertOpts: one training per workspace waiting or running (River's
// unique jobs, by arguments); a burst of changes queues one.
func (TrainArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: TrainAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// Trainer trains a workspace's classifier and refits its calibration, now
// (knowledge.Service).
type Trainer interface {
	TrainNow(ctx context.Context, workspaceID string) error
}

// Train runs trainings. A run reads the knowledge's version, trains, and
// completes the job only if the knowledge is still at that version;
// otherwise it trains again, so the model it leaves is that of the latest
// knowledge. A failed run keeps the model that serves (nothing is stored
// until a training ends) and is logged; River runs it again, up to
// TrainAttempts times.
type Train struct {
	river.WorkerDefaults[TrainArgs]
	db      *postgres.DB
	trainer Trainer
	log     *slog.Logger
}

// NewTrain returns the training worker; add it with Register. A nil log
// discards its lines.
func NewTrain(db *postgres.DB, t Trainer, log *slog.Logger) *Train {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Train{db: db, trainer: t, log: log}
}

// Register adds the worker to a queue's workers.
func (w *Train) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Work runs one attempt of a training.
func (w *Train) Work(ctx context.Context, job *river.Job[TrainArgs]) error {
	ws := job.Args.WorkspaceID
	log := w.log.With("workspace_id", ws, "job_id", job.ID, "attempt", job.Attempt)
	for round := 1; ; round++ {
		version, err := w.db.KnowledgeVersion(ctx, ws)
		if err == nil {
			err = w.trainer.TrainNow(ctx, ws)
		}
		var done bool
		if err == nil {
			done, err = postgres.CompleteTraining(ctx, w.db, job, ws, version)
		}
		switch {
		case err != nil && job.Attempt >= job.MaxAttempts:
			log.ErrorContext(ctx, "training failed on its last attempt; the previous model keeps serving", "err", err.Error())
			return err
		case err != nil:
			log.WarnContext(ctx, "training failed; the previous model keeps serving, and it will run again", "err", err.Error())
			return err
		case done:
			return nil
		}
		log.InfoContext(ctx, "the knowledge changed during the training: training again", "round", round+1)
	}
}

// TrainQueue puts training jobs on the queue (postgres.Queue).
type TrainQueue interface {
	QueueTraining(ctx context.Context, workspaceID string, args river.JobArgs) (int64, error)
}

// Waiter waits for a job to finish or fail (postgres.Queue).
type Waiter interface {
	WaitJob(ctx context.Context, id int64, interval time.Duration) (rivertype.JobState, string, error)
}

// TrainEnqueuer queues trainings (knowledge.Service's TrainingQueue).
type TrainEnqueuer struct {
	q    TrainQueue
	wait Waiter // nil: do not wait
}

// On returns what queues trainings on q; with wait set, QueueTraining
// returns only when the training has finished (or an attempt has failed),
// run by this process's queue or another's.
func (w *Train) On(q TrainQueue, wait Waiter) TrainEnqueuer {
	return TrainEnqueuer{q: q, wait: wait}
}

// QueueTraining queues a training of the workspace (or joins the one
// queued) and, with a Waiter, waits for it. The job is queued even when
// ctx is cancelled (a client hanging up after its change committed); only
// the waiting ends with ctx.
func (e TrainEnqueuer) QueueTraining(ctx context.Context, workspaceID string) error {
	id, err := e.q.QueueTraining(context.WithoutCancel(ctx), workspaceID, TrainArgs{WorkspaceID: workspaceID})
	if err != nil || e.wait == nil {
		return err
	}
	state, msg, err := e.wait.WaitJob(ctx, id, 100*time.Millisecond)
	switch {
	case err != nil:
		return err
	case state != rivertype.JobStateCompleted:
		return fmt.Errorf("training job %d %s: %s", id, state, msg)
	}
	return nil
}
