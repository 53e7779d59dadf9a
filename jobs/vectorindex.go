package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleyhq/parley/postgres"
)

// VectorIndexArgs is the queue message of an index build: give a
// workspace's vectors of a model an HNSW index of their own
// (postgres.DB.BuildVectorIndex).
type VectorIndexArgs struct {
	WorkspaceID string `json:"workspace_id" river:"unique"`
	Model       string `json:"model" river:"unique"`
	// Vectors is how many vectors the workspace had when the build was
	// queued: its timeout is sized to them (see Timeout).
	Vectors int `json:"vectors,omitempty"`
}

// Kind names index builds on the queue.
func (VectorIndexArgs) Kind() string { return "vector_index" }

// InsertOpts: one build per workspace and model waiting or running (River's
// unique jobs, by the arguments marked unique); a failed one runs again
// with River's backoff.
func (VectorIndexArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// VectorIndex runs index builds. A build that fails or is cut short leaves
// the workspace searchable (exactly, until its index is valid); the next
// attempt drops the invalid index and builds it again.
type VectorIndex struct {
	river.WorkerDefaults[VectorIndexArgs]
	db      *postgres.DB
	timeout time.Duration
	log     *slog.Logger
}

// NewVectorIndex returns the index build worker; add it with Register.
// timeout is the queue's job timeout (postgres.QueueOptions; 0: its
// default), which a large build extends (see Timeout). A nil log discards
// its lines.
func NewVectorIndex(db *postgres.DB, timeout time.Duration, log *slog.Logger) *VectorIndex {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if timeout <= 0 {
		timeout = postgres.DefaultJobTimeout
	}
	return &VectorIndex{db: db, timeout: timeout, log: log}
}

// Register adds the worker to a queue's workers.
func (w *VectorIndex) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Timeout is the queue's job timeout, or longer for a build of many
// vectors (postgres.VectorWorkTimeout; from 30,000 at the default 10
// minutes): a 300,000-vector build outlasts 10 minutes on a busy machine.
// Vectors added after the build was queued come in small loads (a large
// one builds its own index), within the margin.
func (w *VectorIndex) Timeout(job *river.Job[VectorIndexArgs]) time.Duration {
	return max(w.timeout, postgres.VectorWorkTimeout(job.Args.Vectors))
}

// Work runs one attempt of an index build.
func (w *VectorIndex) Work(ctx context.Context, job *river.Job[VectorIndexArgs]) error {
	log := w.log.With("workspace_id", job.Args.WorkspaceID, "model", job.Args.Model, "job_id", job.ID, "attempt", job.Attempt)
	n, err := w.db.BuildVectorIndex(ctx, job.Args.WorkspaceID, job.Args.Model)
	switch {
	case err != nil:
		log.WarnContext(ctx, "workspace vector index not built; its searches stay exact until it is, and it will run again", "err", err.Error())
		return err
	case n > 0:
		log.InfoContext(ctx, "workspace vector index built", "vectors", n)
	}
	return nil
}

// VectorIndexQueue puts index builds on the training queue
// (postgres.Queue).
type VectorIndexQueue interface {
	InsertOnTrainingQueue(ctx context.Context, args river.JobArgs) error
}

// VectorIndexEnqueuer queues index builds (knowledge.Service's
// VectorIndexQueue).
type VectorIndexEnqueuer struct {
	db *postgres.DB
	q  VectorIndexQueue
}

// On returns what queues index builds on q.
func (w *VectorIndex) On(q VectorIndexQueue) VectorIndexEnqueuer {
	return VectorIndexEnqueuer{db: w.db, q: q}
}

// QueueVectorIndex queues a build of the workspace's index of model's
// vectors if they need one (postgres.DB.NeedsVectorIndex), or joins the
// one queued. It is queued even when ctx is cancelled (a client hanging up
// after its change committed).
func (e VectorIndexEnqueuer) QueueVectorIndex(ctx context.Context, workspaceID, model string) error {
	ctx = context.WithoutCancel(ctx)
	need, err := e.db.NeedsVectorIndex(ctx, workspaceID, model)
	if err != nil || !need {
		return err
	}
	n, err := e.db.CountVectors(ctx, workspaceID, model)
	if err != nil {
		return err
	}
	return e.q.InsertOnTrainingQueue(ctx, VectorIndexArgs{WorkspaceID: workspaceID, Model: model, Vectors: n})
}
