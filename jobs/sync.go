package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleyhq/parley"
)

// SyncArgs is the queue message of a knowledge base sync.
type SyncArgs struct {
	WorkspaceID string `json:"workspace_id"`
	KBID        string `json:"kb_id"`
}

// Kind names sync jobs on the queue.
func (SyncArgs) Kind() string { return "kb_sync" }

// InsertOpts: one run; a knowledge base with a sync queued gets no second
// one (River's unique jobs, by arguments, while queued or running).
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// Syncer syncs a knowledge base with its origin (crawl.Syncer).
type Syncer interface {
	Sync(ctx context.Context, workspaceID, kbID string) error
}

// SyncFunc adapts a function to Syncer.
type SyncFunc func(ctx context.Context, workspaceID, kbID string) error

// Sync calls f.
func (f SyncFunc) Sync(ctx context.Context, workspaceID, kbID string) error {
	return f(ctx, workspaceID, kbID)
}

// Sync runs knowledge base syncs on the queue. A sync records its own
// outcome with the origin (state, error, report), so a failed one is not
// run again: the next is the next scheduled or asked-for one.
type Sync struct {
	river.WorkerDefaults[SyncArgs]
	syncer Syncer
	log    *slog.Logger
}

// NewSync returns the sync job worker; add it with Register.
func NewSync(s Syncer, log *slog.Logger) *Sync {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sync{syncer: s, log: log}
}

// Register adds the worker to a queue's workers.
func (w *Sync) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Work runs one sync.
func (w *Sync) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	a := job.Args
	if err := w.syncer.Sync(ctx, a.WorkspaceID, a.KBID); err != nil {
		level := slog.LevelWarn
		if parley.ErrorCode(err) == parley.EInternal {
			level = slog.LevelError
		}
		w.log.Log(ctx, level, "knowledge base sync failed", "kb_id", a.KBID, "err", err.Error())
	}
	return nil
}

// SyncQueue puts jobs on the queue (postgres.Queue).
type SyncQueue interface {
	Insert(ctx context.Context, args river.JobArgs) error
}

// OriginStore records that a sync is queued (postgres.DB).
type OriginStore interface {
	MarkOriginSync(ctx context.Context, kbID, state string) error
}

// SyncEnqueuer queues syncs.
type SyncEnqueuer struct {
	q     SyncQueue
	store OriginStore
}

// On returns what queues syncs on q.
func (w *Sync) On(q SyncQueue, store OriginStore) SyncEnqueuer {
	return SyncEnqueuer{q: q, store: store}
}

// QueueSync queues a sync of a knowledge base and marks its origin queued.
func (e SyncEnqueuer) QueueSync(ctx context.Context, workspaceID, kbID string) error {
	if err := e.q.Insert(ctx, SyncArgs{WorkspaceID: workspaceID, KBID: kbID}); err != nil {
		return err
	}
	return e.store.MarkOriginSync(ctx, kbID, parley.JobQueued)
}
