package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// Defaults for the ingest job Options left zero.
const (
	DefaultIngestJobs   = 2
	DefaultIngestQueue  = 8
	DefaultJobHeartbeat = 10 * time.Second
)

// getJob returns an ingest job of the knowledge base.
func (s *Server) getJob(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	kb, ok := s.kbFromPath(c)
	if !ok {
		return
	}
	job, err := s.store.IngestJob(ctx, ws, kb.ID, c.Param("job"), s.jobs.staleAfter())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newJobResponse(job))
}

// jobCounts is what an ingest job stores as its counts: the plan made when
// the upload was validated, the progress while it runs, and its result.
type jobCounts struct {
	Documents int            `json:"documents"`
	Planned   ingest.Result  `json:"planned"`
	Written   int            `json:"written"`  // changed sources written so far
	ToWrite   int            `json:"to_write"` // changed sources to write
	Result    *ingest.Result `json:"result,omitempty"`
	ElapsedMS int64          `json:"elapsed_ms,omitempty"`
}

// jobResponse is an ingest job as the API shows it.
type jobResponse struct {
	ID        string    `json:"id"`
	KBID      string    `json:"knowledge_base_id"`
	State     string    `json:"state"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	jobCounts
}

func newJobResponse(j parley.IngestJob) jobResponse {
	r := jobResponse{ID: j.ID, KBID: j.KBID, State: j.State, Error: j.Error, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	_ = json.Unmarshal(j.Counts, &r.jobCounts) // written by jobs.run; an old shape shows as zeros
	return r
}

// jobs runs ingest jobs in the background, owned by the server: at most
// IngestJobs at once and IngestQueue more waiting; beyond that uploads are
// refused with 503. Each job reports that it is alive every heartbeat, so a
// job whose server died is seen as stale (staleAfter) and failed (see
// postgres.StaleJobError). On Close, jobs may finish until the deadline,
// then they are cancelled and fail, having written nothing.
type jobs struct {
	slots     chan struct{} // one per running job
	admitted  chan struct{} // one per running or waiting job
	heartbeat time.Duration
	stop      chan struct{} // closed to cancel every job

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newJobs(opts Options) *jobs {
	n := positive(opts.IngestJobs, DefaultIngestJobs)
	return &jobs{
		slots:     make(chan struct{}, n),
		admitted:  make(chan struct{}, n+positive(opts.IngestQueue, DefaultIngestQueue)),
		heartbeat: positive(opts.JobHeartbeat, DefaultJobHeartbeat),
		stop:      make(chan struct{}),
	}
}

// staleAfter is how long a job may go without a heartbeat before it is
// taken for dead: several missed beats.
func (j *jobs) staleAfter() time.Duration { return 6 * j.heartbeat }

// FailStaleJobs fails the queued and running jobs whose server stopped
// sending heartbeats (it crashed or was killed), and returns how many.
// `parley serve` calls it when it starts; GET on such a job does the same
// for that job.
func (s *Server) FailStaleJobs(ctx context.Context) (int, error) {
	return s.store.FailStaleIngestJobs(ctx, s.jobs.staleAfter())
}

// start records a queued job and runs it in the background. ctx only
// carries values into the job: the job outlives the request.
func (j *jobs) start(ctx context.Context, log *slog.Logger, store Store, ing Ingester, req ingest.Request, counts jobCounts) (parley.IngestJob, error) {
	if err := j.admit(); err != nil {
		return parley.IngestJob{}, err
	}
	counts.ToWrite = counts.Planned.Added + counts.Planned.Updated
	job, err := store.CreateIngestJob(ctx, req.WorkspaceID, req.KBID, counts)
	if err != nil {
		<-j.admitted
		j.wg.Done()
		return parley.IngestJob{}, err
	}
	go j.run(context.WithoutCancel(ctx), log.With("job_id", job.ID), store, ing, job.ID, req, counts)
	return job, nil
}

// admit takes a place for one more job, or says why there is none.
func (j *jobs) admit() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return parley.Errorf(parley.EUnavailable, "the server is shutting down; upload again in a moment")
	}
	select {
	case j.admitted <- struct{}{}:
		j.wg.Add(1)
		return nil
	default:
		return parley.Errorf(parley.EUnavailable, "%d ingest jobs are already running or waiting on this server; try again when one has finished", cap(j.admitted))
	}
}

// run waits for a slot, runs the ingest and records the outcome.
func (j *jobs) run(ctx context.Context, log *slog.Logger, store Store, ing Ingester, id string, req ingest.Request, counts jobCounts) {
	defer j.wg.Done()
	defer func() { <-j.admitted }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-j.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	var written atomic.Int64
	beat := func() jobCounts { c := counts; c.Written = int(written.Load()); return c }
	go j.beat(ctx, store, id, beat, log)

	select {
	case j.slots <- struct{}{}:
		defer func() { <-j.slots }()
	case <-ctx.Done():
		j.finish(ctx, store, id, parley.JobFailed, beat(), "cancelled: the server shut down before the job started; nothing was written, upload again", log)
		return
	}
	if err := store.UpdateIngestJob(ctx, id, parley.JobRunning, counts, ""); err != nil {
		log.ErrorContext(ctx, "ingest job: mark running", "err", err.Error())
	}
	req.Progress = func(done, _ int) { written.Store(int64(done)) }
	start := time.Now()
	res, err := ing.Run(ctx, req)
	final := beat()
	final.ElapsedMS = time.Since(start).Milliseconds()
	switch {
	case err == nil:
		final.Result = &res
		final.Written, final.ToWrite = res.Added+res.Updated, res.Added+res.Updated
		j.finish(ctx, store, id, parley.JobSucceeded, final, "", log)
	case ctx.Err() != nil: // only Close cancels a job
		j.finish(ctx, store, id, parley.JobFailed, final, "cancelled: the server shut down before the job finished; nothing was written, upload again", log)
	default:
		failure := ingestError(err)
		text := parley.ErrorMessage(failure)
		if parley.ErrorCode(failure) == parley.EInternal {
			log.ErrorContext(ctx, "ingest job failed", "err", err.Error())
			text = "internal error (logged with job id " + id + ")"
		}
		j.finish(ctx, store, id, parley.JobFailed, final, text+"; nothing was written", log)
	}
}

// beat reports every heartbeat that job id is alive, with its progress,
// until ctx ends.
func (j *jobs) beat(ctx context.Context, store Store, id string, counts func() jobCounts, log *slog.Logger) {
	t := time.NewTicker(j.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := store.TouchIngestJobs(ctx, map[string]any{id: counts()}); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "ingest job heartbeat", "err", err.Error())
			}
		}
	}
}

// finish records a job's final state, even when its context was cancelled.
func (j *jobs) finish(ctx context.Context, store Store, id, state string, counts jobCounts, msg string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := store.UpdateIngestJob(ctx, id, state, counts, msg); err != nil {
		log.ErrorContext(ctx, "ingest job: record final state", "state", state, "err", err.Error())
	}
}

// Close stops taking ingest jobs and waits for the running and waiting
// ones until ctx ends; then it cancels them (they are recorded as failed,
// having written nothing) and waits for that to be written.
func (s *Server) Close(ctx context.Context) error {
	j := s.jobs
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	idle := len(j.admitted) == 0 // no job runs or waits, and none is admitted any more
	j.mu.Unlock()
	if idle {
		return nil
	}
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	close(j.stop)
	<-done
	return fmt.Errorf("ingest jobs cancelled at shutdown: %w", ctx.Err())
}
