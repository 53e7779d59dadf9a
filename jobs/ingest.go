package jobs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/postgres"
)

// IngestArgs is the queue message of an ingest job: the id of its
// ingest_jobs row, which holds the upload.
type IngestArgs struct {
	JobID string `json:"job_id"`
	// Chunks is how many chunks the job's plan writes: its timeout is
	// sized to them (see Timeout).
	Chunks int `json:"chunks,omitempty"`
}

// Kind names ingest jobs on the queue.
func (IngestArgs) Kind() string { return "ingest" }

// Defaults of IngestOptions.
const (
	DefaultIngestAttempts = 3
	DefaultMaxPending     = 10
	progressEvery         = 2 * time.Second
)

// Ingester runs one ingest and retrains after it (knowledge.Service).
type Ingester interface {
	Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error)
}

// Store is what ingest jobs need from the database (postgres.DB).
type Store interface {
	StartIngestJob(ctx context.Context, id string, attempt int) (parley.IngestJob, []byte, error)
	UpdateIngestJob(ctx context.Context, u parley.IngestJobUpdate) error
	TouchIngestJobs(ctx context.Context, counts map[string]json.RawMessage) error
	CountPendingIngestJobs(ctx context.Context, workspaceID string) (int, error)
}

// IngestOptions tune ingest jobs; zero values take the defaults.
type IngestOptions struct {
	Attempts   int // runs before a job that keeps failing or dying fails (3)
	MaxPending int // queued and running jobs a workspace may have (10)
	// JobTimeout is the queue's job timeout (postgres.QueueOptions): a job
	// writing many chunks gets longer (see Ingest.Timeout).
	JobTimeout time.Duration
	Logger     *slog.Logger
}

// Ingest runs ingest jobs: Enqueue records a job with its upload, and the
// queue calls Work in whichever server takes it. An upload is planned when
// it is validated; the server that planned it keeps the plan in memory, and
// if it runs the job itself, writes that plan (ingest.Request.Deferred);
// another server, or a later attempt, plans again from the stored upload.
// Each run is one transaction, so a run cut short wrote nothing and the
// next attempt starts afresh.
type Ingest struct {
	river.WorkerDefaults[IngestArgs]
	store    Store
	ingester Ingester
	opts     IngestOptions
	log      *slog.Logger

	mu    sync.Mutex
	plans map[string]plan // job id → plan made by this process
}

type plan struct {
	p  *ingest.Plan
	at time.Time
}

// planKeep is how long a plan waits in memory for its job to start here.
const planKeep = time.Hour

// NewIngest returns the ingest job worker; add it to the queue's workers
// with Register.
func NewIngest(store Store, ing Ingester, opts IngestOptions) *Ingest {
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultIngestAttempts
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = postgres.DefaultJobTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ingest{store: store, ingester: ing, opts: opts, log: log, plans: map[string]plan{}}
}

// Register adds the worker to a queue's workers.
func (w *Ingest) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Queue records and queues jobs (postgres.Queue).
type Queue interface {
	CreateIngestJob(ctx context.Context, nj postgres.NewIngestJob) (parley.IngestJob, error)
}

// Enqueuer queues ingest jobs on one queue.
type Enqueuer struct {
	w *Ingest
	q Queue
}

// On returns what queues ingest jobs on q for this worker to run.
func (w *Ingest) On(q Queue) Enqueuer { return Enqueuer{w: w, q: q} }

// Enqueue records a queued job for req's deferred plan (ingest.Result's
// Deferred) with its documents and returns it. A workspace with
// MaxPending jobs queued or running gets an unavailable error.
func (e Enqueuer) Enqueue(ctx context.Context, req ingest.Request, deferred *ingest.Plan, counts ingest.JobCounts) (parley.IngestJob, error) {
	w := e.w
	n, err := w.store.CountPendingIngestJobs(ctx, req.WorkspaceID)
	if err != nil {
		return parley.IngestJob{}, err
	}
	if n >= w.opts.MaxPending {
		return parley.IngestJob{}, parley.Errorf(parley.EUnavailable, "%d ingest jobs of this workspace are already queued or running; try again when one has finished", n)
	}
	upload, err := encodeUpload(req)
	if err != nil {
		return parley.IngestJob{}, err
	}
	counts.ToWrite = counts.Planned.Added + counts.Planned.Updated
	job, err := e.q.CreateIngestJob(ctx, postgres.NewIngestJob{
		WorkspaceID: req.WorkspaceID, KBID: req.KBID, Counts: counts.JSON(), Upload: upload,
		Args:        func(id string) river.JobArgs { return IngestArgs{JobID: id, Chunks: counts.Planned.Chunks} },
		MaxAttempts: w.opts.Attempts,
	})
	if err != nil {
		return parley.IngestJob{}, err
	}
	w.keepPlan(job.ID, deferred)
	return job, nil
}

func (w *Ingest) keepPlan(id string, p *ingest.Plan) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range w.plans {
		if time.Since(v.at) > planKeep {
			delete(w.plans, k)
		}
	}
	w.plans[id] = plan{p: p, at: time.Now()}
}

func (w *Ingest) takePlan(id string) *ingest.Plan {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.plans[id]
	delete(w.plans, id)
	return p.p
}

// upload is how a job's documents are stored: JSON, gzipped.
type upload struct {
	Version int               `json:"v"`
	Prune   bool              `json:"prune"`
	Docs    []ingest.Document `json:"docs"`
}

func encodeUpload(req ingest.Request) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(upload{Version: 1, Prune: req.Prune, Docs: req.Docs}); err != nil {
		return nil, fmt.Errorf("encode upload: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode upload: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeUpload(raw []byte) (upload, error) {
	var u upload
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return u, fmt.Errorf("decode upload: %w", err)
	}
	if err := json.NewDecoder(zr).Decode(&u); err != nil {
		return u, fmt.Errorf("decode upload: %w", err)
	}
	if u.Version != 1 {
		return u, fmt.Errorf("decode upload: unknown version %d", u.Version)
	}
	return u, nil
}

// Timeout is the queue's job timeout, or longer for a job of many chunks
// (from 30,000 at the default 10 minutes):
// a large load builds its workspace's HNSW index in its transaction, and a
// build of 300,000 vectors outlasts 10 minutes on a busy machine
// (postgres.VectorWorkTimeout). Cut short, the job would write nothing and
// start again from nothing.
func (w *Ingest) Timeout(job *river.Job[IngestArgs]) time.Duration {
	return max(w.opts.JobTimeout, postgres.VectorWorkTimeout(job.Args.Chunks))
}

// Work runs one attempt of an ingest job and records its outcome. A job
// that has ended already is left alone. The upload's own problems fail the
// job at once; other failures (the database, the embedder, a timeout, a
// shutdown) put it back to queued for the next attempt, until the last.
func (w *Ingest) Work(ctx context.Context, job *river.Job[IngestArgs]) error {
	id := job.Args.JobID
	log := w.log.With("job_id", id, "attempt", job.Attempt)
	rec, raw, err := w.store.StartIngestJob(ctx, id, job.Attempt)
	if parley.ErrorCode(err) == parley.ENotFound {
		log.InfoContext(ctx, "ingest job ended or deleted before this attempt; nothing to do")
		return nil
	}
	if err != nil {
		return fmt.Errorf("start ingest job %s: %w", id, err)
	}
	var counts ingest.JobCounts
	_ = json.Unmarshal(rec.Counts, &counts) // written by Enqueue; an old shape shows as zeros
	counts.Written = 0

	req := ingest.Request{WorkspaceID: rec.WorkspaceID, KBID: rec.KBID, Deferred: w.takePlan(id)}
	if req.Deferred == nil {
		up, err := decodeUpload(raw)
		if err != nil {
			w.finish(ctx, id, parley.JobFailed, counts, "internal error (logged with job id "+id+"); nothing was written", log)
			log.ErrorContext(ctx, "ingest job", "err", err.Error())
			return river.JobCancel(err)
		}
		req.Docs, req.Prune = up.Docs, up.Prune
	} else {
		req.Prune = req.Deferred.Prune()
	}

	var written atomic.Int64
	req.Progress = func(done, _ int) { written.Store(int64(done)) }
	current := func() ingest.JobCounts { c := counts; c.Written = int(written.Load()); return c }
	progressCtx, stopProgress := context.WithCancel(ctx)
	var reporter sync.WaitGroup
	reporter.Go(func() { w.report(progressCtx, id, current, log) })
	start := time.Now()
	res, err := w.ingester.Ingest(ctx, req)
	stopProgress()
	reporter.Wait()

	final := current()
	final.ElapsedMS = time.Since(start).Milliseconds()
	last := job.Attempt >= job.MaxAttempts
	switch {
	case err == nil:
		final.Result = &res
		final.Written, final.ToWrite = res.Added+res.Updated, res.Added+res.Updated
		w.finish(ctx, id, parley.JobSucceeded, final, "", log)
		return nil
	case permanent(err) != "":
		w.finish(ctx, id, parley.JobFailed, final, permanent(err)+"; nothing was written", log)
		return river.JobCancel(err)
	case last:
		log.ErrorContext(ctx, "ingest job failed on its last attempt", "err", err.Error())
		w.finish(ctx, id, parley.JobFailed, final, fmt.Sprintf("%s; nothing was written", runError(ctx, id, err)), log)
		return err
	default:
		log.WarnContext(ctx, "ingest job attempt failed; it will run again", "err", err.Error())
		w.finish(ctx, id, parley.JobQueued, final,
			fmt.Sprintf("attempt %d of %d: %s; nothing was written, it will run again", job.Attempt, job.MaxAttempts, runError(ctx, id, err)), log)
		return err
	}
}

// permanent returns the message of an ingest error that is the upload's
// own (bad input, or its knowledge base deleted meanwhile), which running
// it again would repeat, and "" for any other error.
func permanent(err error) string {
	var ie *ingest.InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	switch parley.ErrorCode(err) {
	case parley.EInvalid, parley.ETooLarge, parley.ENotFound:
		return parley.ErrorMessage(err)
	}
	return ""
}

// runError says what stopped a run, without internal details.
func runError(ctx context.Context, id string, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "the job ran out of time"
	case ctx.Err() != nil:
		return "the server running it shut down"
	case parley.ErrorCode(err) != parley.EInternal:
		return parley.ErrorMessage(err)
	default:
		return "internal error (logged with job id " + id + ")"
	}
}

// report stores the job's progress every few seconds until ctx ends.
func (w *Ingest) report(ctx context.Context, id string, counts func() ingest.JobCounts, log *slog.Logger) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.store.TouchIngestJobs(ctx, map[string]json.RawMessage{id: counts().JSON()}); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "ingest job progress", "err", err.Error())
			}
		}
	}
}

// finish records a job's state after a run, even when ctx was cancelled.
func (w *Ingest) finish(ctx context.Context, id, state string, counts ingest.JobCounts, msg string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.store.UpdateIngestJob(ctx, parley.IngestJobUpdate{ID: id, State: state, Counts: counts.JSON(), Error: msg}); err != nil {
		log.ErrorContext(ctx, "ingest job: record state", "state", state, "err", err.Error())
	}
}
