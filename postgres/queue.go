package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleyhq/parley"
)

// Queue is River, the job queue Parley's background work runs on: jobs are
// rows of River's tables in this database (migrated with Parley's, see
// package migrations), so any replica may take a queued job, and a job whose
// server died is taken again (River's rescuer finds runs older than the job
// timeout). Job kinds and their workers are registered by the caller in
// QueueOptions.Workers.
type Queue struct {
	db           *DB
	client       *river.Client[pgx.Tx]
	name         string
	trainingName string
}

// Defaults for the QueueOptions left zero.
const (
	DefaultQueueWorkers = 2
	DefaultJobTimeout   = 10 * time.Minute
	DefaultPollInterval = time.Second
)

// QueueOptions configure a Queue.
type QueueOptions struct {
	// Workers holds the workers of every job kind the queue runs; without
	// them the queue only takes jobs (it cannot be started).
	Workers *river.Workers
	// Name is the River queue this Queue puts jobs on and takes them from
	// ("default"). Tests sharing a schema give each server its own.
	// Training jobs have a queue of their own, Name + "_training", worked
	// one job at a time: a training uses a core fully, and a long one does
	// not hold up ingest jobs.
	Name string
	// TrainingOnly works the training queue alone: `parley ingest`,
	// waiting for the training its ingest queued.
	TrainingOnly bool
	// Concurrency is how many jobs this process runs at once (2).
	Concurrency int
	// JobTimeout cancels a job running longer (10 minutes). A job still
	// marked running JobTimeout plus a margin (as much again, at most a
	// minute) after it started is taken for dead and run again.
	JobTimeout time.Duration
	// PollInterval is how often an idle queue looks for jobs (1 s).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// NewQueue returns a queue on db's pool, in its current schema; start it
// with Start.
func NewQueue(ctx context.Context, db *DB, opts QueueOptions) (*Queue, error) {
	// Named explicitly: unqualified, River would use tables of a schema
	// later on the search_path (public) if this one had none.
	var schema string
	if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("create job queue: read the current schema: %w", err)
	}
	name := opts.Name
	if name == "" {
		name = river.QueueDefault
	}
	timeout := orDefault(opts.JobTimeout, DefaultJobTimeout)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	trainingName := name + "_training"
	var queues map[string]river.QueueConfig
	if opts.Workers != nil {
		queues = map[string]river.QueueConfig{trainingName: {MaxWorkers: 1}}
		if !opts.TrainingOnly {
			queues[name] = river.QueueConfig{MaxWorkers: orDefault(opts.Concurrency, DefaultQueueWorkers)}
		}
	}
	client, err := river.NewClient(riverpgxv5.New(db.pool), &river.Config{
		Queues:               queues,
		Workers:              opts.Workers,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: timeout + min(timeout, time.Minute),
		// Polling instead of LISTEN/NOTIFY keeps no pool connection
		// listening, and queues of other schemas do not wake this one.
		PollOnly:          true,
		FetchPollInterval: orDefault(opts.PollInterval, DefaultPollInterval),
		Logger:            log,
		Schema:            schema,
	})
	if err != nil {
		return nil, fmt.Errorf("create job queue: %w", err)
	}
	return &Queue{db: db, client: client, name: name, trainingName: trainingName}, nil
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Start starts taking and running jobs, in the background, until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for the running ones until ctx ends;
// then it cancels them and waits for them to return. A cancelled job is
// run again later, here or on another server (River retries it).
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cerr := q.client.StopAndCancel(cctx); cerr != nil {
		return fmt.Errorf("stop job queue: running jobs did not return after cancellation: %w", cerr)
	}
	return fmt.Errorf("stop job queue: running jobs cancelled, to be run again: %w", err)
}

// NewIngestJob is an ingest job to record and queue.
type NewIngestJob struct {
	WorkspaceID string
	KBID        string
	Counts      json.RawMessage // the JSON object the runner reads back
	Upload      []byte          // kept with the job until it ends
	// Args is the queue message of the job with the given id.
	Args        func(id string) river.JobArgs
	MaxAttempts int
}

// CreateIngestJob records a queued ingest job with its upload and puts it
// on the queue, in one transaction: a job is either recorded and queued,
// or neither.
func (q *Queue) CreateIngestJob(ctx context.Context, nj NewIngestJob) (parley.IngestJob, error) {
	var job parley.IngestJob
	err := q.db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO ingest_jobs (workspace_id, kb_id, state, counts, upload)
			VALUES ($1, $2, 'queued', $3, $4) RETURNING `+jobColumns, nj.WorkspaceID, nj.KBID, nj.Counts, nj.Upload)
		if err != nil {
			return err
		}
		if job, err = pgx.CollectExactlyOneRow(rows, scanJob); err != nil {
			return err
		}
		res, err := q.client.InsertTx(ctx, tx, nj.Args(job.ID), &river.InsertOpts{Queue: q.name, MaxAttempts: nj.MaxAttempts})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE ingest_jobs SET river_job_id = $2 WHERE id = $1`, job.ID, res.Job.ID)
		return err
	})
	if err != nil {
		return parley.IngestJob{}, fmt.Errorf("create ingest job: %w", err)
	}
	return job, nil
}

// Insert puts a job on the queue with its kind's insert options.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs) error {
	if _, err := q.client.Insert(ctx, args, &river.InsertOpts{Queue: q.name}); err != nil {
		return fmt.Errorf("queue %s job: %w", args.Kind(), err)
	}
	return nil
}

// WaitJob waits until the job with id has finished or an attempt of it has
// failed (River retries it later), polling every interval, and returns its
// state and the error of its last failed attempt, if any.
func (q *Queue) WaitJob(ctx context.Context, id int64, interval time.Duration) (rivertype.JobState, string, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		job, err := q.client.JobGet(ctx, id)
		if err != nil {
			return "", "", fmt.Errorf("read job %d: %w", id, err)
		}
		switch job.State {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded, rivertype.JobStateRetryable:
			msg := ""
			if n := len(job.Errors); n > 0 {
				msg = job.Errors[n-1].Error
			}
			return job.State, msg, nil
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("wait for job %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}
