package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// Ingester runs one ingest (ingest.Pipeline).
type Ingester interface {
	Run(ctx context.Context, req ingest.Request) (ingest.Result, error)
}

// Defaults for the upload and job Options left zero.
const (
	DefaultMaxUploadBytes   = 64 << 20
	DefaultMaxUploadRecords = 100_000
	DefaultSyncIngestMax    = 500
	DefaultIngestJobs       = 2
	DefaultIngestQueue      = 8
	DefaultJobHeartbeat     = 10 * time.Second
)

// uploadRoute is the route whose bodies are capped at MaxUploadBytes
// instead of MaxBodyBytes.
const uploadRoute = "/v1/knowledge-bases/:kb/uploads"

// uploadReadTimeout replaces the server's read timeout for an upload body,
// which may be large and come over a slow link.
const uploadReadTimeout = 10 * time.Minute

// bodyLimit caps request bodies: uploads at MaxUploadBytes, everything
// else at MaxBodyBytes.
func (s *Server) bodyLimit() gin.HandlerFunc {
	small, large := limitBody(s.opts.MaxBodyBytes), limitBody(s.maxUploadBytes())
	return func(c *gin.Context) {
		if c.FullPath() == uploadRoute {
			large(c)
			return
		}
		small(c)
	}
}

func (s *Server) maxUploadBytes() int64 {
	return positive(s.opts.MaxUploadBytes, DefaultMaxUploadBytes)
}
func (s *Server) maxRecords() int { return positive(s.opts.MaxUploadRecords, DefaultMaxUploadRecords) }
func (s *Server) syncMax() int    { return positive(s.opts.SyncIngestMax, DefaultSyncIngestMax) }

func positive[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// upload is one validated upload: documents ready for the pipeline.
type upload struct {
	docs    []ingest.Document
	files   int
	skipped []ingest.Skipped
	prune   bool
	dryRun  bool
}

// uploadResponse answers an upload written (or planned, for a dry run)
// before the response.
type uploadResponse struct {
	KBID      string           `json:"knowledge_base_id"`
	Documents int              `json:"documents"`
	Files     int              `json:"files"`
	DryRun    bool             `json:"dry_run"`
	Result    ingest.Result    `json:"result"`
	ElapsedMS int64            `json:"elapsed_ms"`
	Skipped   []ingest.Skipped `json:"skipped"`
}

// postUpload ingests an upload into a knowledge base. The whole upload is
// read and validated first (a problem is a 400 naming file, line and
// field), and planned: unchanged sources need no work. Then an upload with
// at most SyncIngestMax chunks to embed and write is written before
// answering 200, and a larger one becomes a background job (202 with a
// Location to poll).
func (s *Server) postUpload(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	if s.opts.Ingester == nil {
		fail(c, parley.Errorf(parley.EUnavailable, "uploads are not enabled on this server"))
		return
	}
	kb, ok := s.kbFromPath(c)
	if !ok {
		return
	}
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(uploadReadTimeout))
	up, err := s.readUpload(c)
	if err != nil {
		fail(c, ingestError(err))
		return
	}
	req := ingest.Request{WorkspaceID: ws, KBID: kb.ID, Docs: up.docs, Prune: up.prune, DryRun: true}
	plan, err := s.opts.Ingester.Run(ctx, req)
	if err != nil {
		fail(c, ingestError(err))
		return
	}
	resp := uploadResponse{KBID: kb.ID, Documents: len(up.docs), Files: up.files, DryRun: up.dryRun,
		Result: plan, ElapsedMS: plan.Elapsed.Milliseconds(), Skipped: nonNilSkipped(up.skipped)}
	if up.dryRun {
		c.JSON(http.StatusOK, resp)
		return
	}
	req.DryRun = false
	if plan.Chunks <= s.syncMax() {
		res, err := s.opts.Ingester.Run(ctx, req)
		if err != nil {
			fail(c, ingestError(err))
			return
		}
		resp.Result, resp.ElapsedMS = res, res.Elapsed.Milliseconds()
		c.JSON(http.StatusOK, resp)
		return
	}
	job, err := s.jobs.start(ctx, logger(c), s.store, s.opts.Ingester, req, jobCounts{Documents: len(up.docs), Planned: plan})
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/knowledge-bases/"+kb.ID+"/jobs/"+job.ID)
	c.JSON(http.StatusAccepted, gin.H{"job": newJobResponse(job), "skipped": resp.Skipped})
}

func nonNilSkipped(s []ingest.Skipped) []ingest.Skipped {
	if s == nil {
		return []ingest.Skipped{}
	}
	return s
}

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

// ingestError turns the ingest package's input errors into domain errors:
// 413 too_large for a limit, 400 invalid otherwise.
func ingestError(err error) error {
	var ie *ingest.InputError
	if !errors.As(err, &ie) {
		return err
	}
	code := parley.EInvalid
	if errors.Is(ie, ingest.ErrTooLarge) || errors.Is(ie, ingest.ErrTooMany) {
		code = parley.ETooLarge
	}
	return &parley.Error{Code: code, Message: ie.Error()}
}

// readUpload reads a multipart upload of files or a JSON body of records.
func (s *Server) readUpload(c *gin.Context) (upload, error) {
	switch ct := c.ContentType(); ct {
	case "multipart/form-data":
		return s.readMultipart(c)
	case "application/json":
		return s.readJSONUpload(c)
	default:
		return upload{}, parley.Errorf(parley.EInvalid,
			"Content-Type must be multipart/form-data (files in \"file\" parts) or application/json (records), got %q", ct)
	}
}

// uploadFields are the form fields of a multipart upload besides "file".
var uploadFields = []string{"kind", "format", "column", "prune", "dry_run", "keep_pii"}

// readMultipart reads every part first (form fields may follow the files
// they apply to), then loads the files in order.
func (s *Server) readMultipart(c *gin.Context) (upload, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return upload{}, parley.Errorf(parley.EInvalid, "malformed multipart body: %v", err)
	}
	type file struct {
		name string
		data []byte
	}
	var files []file
	form := map[string][]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return upload{}, multipartError(err)
		}
		name := part.FormName()
		if name == "file" {
			if part.FileName() == "" {
				return upload{}, parley.Errorf(parley.EInvalid, `a "file" part needs a filename (its extension gives the format)`)
			}
			if len(files) >= ingest.DefaultMaxFiles {
				return upload{}, parley.Errorf(parley.ETooLarge, "too many files: the limit is %d per upload", ingest.DefaultMaxFiles)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return upload{}, multipartError(err)
			}
			files = append(files, file{part.FileName(), data})
			continue
		}
		if !slices.Contains(uploadFields, name) {
			return upload{}, parley.Errorf(parley.EInvalid, "unknown form field %q (known: file, %s)", name, strings.Join(uploadFields, ", "))
		}
		value, err := io.ReadAll(io.LimitReader(part, 4096))
		if err != nil {
			return upload{}, multipartError(err)
		}
		form[name] = append(form[name], strings.TrimSpace(string(value)))
	}
	if len(files) == 0 {
		return upload{}, parley.Errorf(parley.EInvalid, `no files: send one or more "file" parts`)
	}
	up, opts, err := uploadOptions(form)
	if err != nil {
		return upload{}, err
	}
	loader := s.newLoader(opts)
	for _, f := range files {
		if err := loader.load(c.Request.Context(), bytes.NewReader(f.data), f.name); err != nil {
			return upload{}, err
		}
	}
	up.docs, up.skipped, up.files = loader.docs, loader.skipped, loader.files
	return up, nil
}

func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return parley.Errorf(parley.EInvalid, "malformed multipart body: %v", err)
}

// uploadOptions reads the form fields of a multipart upload.
func uploadOptions(form map[string][]string) (upload, ingest.LoadOptions, error) {
	var up upload
	var opts ingest.LoadOptions
	for name, values := range form {
		if name != "column" && len(values) > 1 {
			return up, opts, parley.Errorf(parley.EInvalid, "form field %q is given %d times", name, len(values))
		}
	}
	opts.Kind = ingest.Kind(first(form["kind"]))
	opts.Format = ingest.Format(first(form["format"]))
	for _, v := range form["column"] {
		field, col, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(field) == "" || strings.TrimSpace(col) == "" {
			return up, opts, parley.Errorf(parley.EInvalid, "form field column must be FIELD=COLUMN, e.g. question=text; got %q", v)
		}
		if opts.Columns == nil {
			opts.Columns = map[string]string{}
		}
		opts.Columns[strings.ToLower(strings.TrimSpace(field))] = strings.TrimSpace(col)
	}
	var err error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"prune", &up.prune}, {"dry_run", &up.dryRun}, {"keep_pii", &opts.KeepPII}} {
		if *b.dst, err = formBool(form, b.name); err != nil {
			return up, opts, err
		}
	}
	return up, opts, nil
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func formBool(form map[string][]string, name string) (bool, error) {
	v := first(form[name])
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, parley.Errorf(parley.EInvalid, "form field %s must be true or false, got %q", name, v)
	}
	return b, nil
}

// jsonUpload is the JSON form of an upload: FAQ entries as records, or
// resolved conversations (the objects `parley ingest` reads from JSONL).
type jsonUpload struct {
	Records       []json.RawMessage `json:"records"`
	Conversations []json.RawMessage `json:"conversations"`
	Kind          string            `json:"kind"`
	Prune         bool              `json:"prune"`
	DryRun        bool              `json:"dry_run"`
	KeepPII       bool              `json:"keep_pii"`
}

// faqRecordFields are the keys a JSON record may have.
var faqRecordFields = []string{"question", "answer", "id", "intent", "tags", "language", "title", "url"}

// readJSONUpload reads a JSON upload. Each list is handed to the loader as
// JSON Lines, one element a line, so "records:3" names the third record.
func (s *Server) readJSONUpload(c *gin.Context) (upload, error) {
	var body jsonUpload
	if err := bindJSON(c, &body); err != nil {
		return upload{}, err
	}
	recordsKind := ingest.KindFAQ
	switch body.Kind {
	case "", string(ingest.KindFAQ):
	case string(ingest.KindConversation):
		recordsKind = ingest.KindConversation
	default:
		return upload{}, parley.Errorf(parley.EInvalid, "kind must be faq or conversation in a JSON upload, got %q; send articles as files", body.Kind)
	}
	if body.Records == nil && body.Conversations == nil {
		return upload{}, parley.Errorf(parley.EInvalid, `send "records" (FAQ entries) or "conversations"`)
	}
	loader := s.newLoader(ingest.LoadOptions{KeepPII: body.KeepPII})
	lists := []struct {
		name  string
		items []json.RawMessage
		kind  ingest.Kind
	}{{"records", body.Records, recordsKind}, {"conversations", body.Conversations, ingest.KindConversation}}
	for _, l := range lists {
		if l.items == nil {
			continue
		}
		lines, err := jsonLines(l.name, l.items, l.kind)
		if err != nil {
			return upload{}, err
		}
		loader.opts.Kind, loader.opts.Format = l.kind, ingest.FormatJSONL
		if l.kind == ingest.KindConversation {
			loader.opts.Format = ingest.FormatConversations
		}
		if err := loader.load(c.Request.Context(), bytes.NewReader(lines), l.name); err != nil {
			return upload{}, err
		}
	}
	return upload{docs: loader.docs, skipped: loader.skipped, prune: body.Prune, dryRun: body.DryRun}, nil
}

// jsonLines writes items as JSON Lines, checking that each is an object
// and, for FAQ records, that it has only known keys.
func jsonLines(name string, items []json.RawMessage, kind ingest.Kind) ([]byte, error) {
	if len(items) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "%s is empty: nothing to ingest", name)
	}
	var buf bytes.Buffer
	for i, raw := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, parley.Errorf(parley.EInvalid, "%s:%d: want a JSON object", name, i+1)
		}
		if kind == ingest.KindFAQ {
			for k := range obj {
				if !slices.Contains(faqRecordFields, strings.ToLower(k)) {
					return nil, parley.Errorf(parley.EInvalid, "%s:%d: unknown field %q (known: %s)", name, i+1, k, strings.Join(faqRecordFields, ", "))
				}
			}
		}
		if err := json.Compact(&buf, raw); err != nil {
			return nil, parley.Errorf(parley.EInvalid, "%s:%d: %v", name, i+1, err)
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// loader reads the files of one upload within its limits: the record limit
// over all files, and the upload byte limit both on what one file (an
// archive: all its entries together) decompresses to, so a zip bomb stops
// there, and on the text kept from all files together.
type loader struct {
	opts       ingest.LoadOptions
	maxRecords int
	budget     int64
	docs       []ingest.Document
	skipped    []ingest.Skipped
	files      int
}

func (s *Server) newLoader(opts ingest.LoadOptions) *loader {
	opts.MaxRecords = s.maxRecords()
	return &loader{opts: opts, maxRecords: s.maxRecords(), budget: s.maxUploadBytes()}
}

func (l *loader) load(ctx context.Context, r io.Reader, name string) error {
	if l.budget <= 0 {
		return &ingest.InputError{Origin: name, Msg: "upload too large: the files before it used up the limit on uncompressed bytes", Err: ingest.ErrTooLarge}
	}
	opts := l.opts
	opts.MaxFileBytes, opts.MaxTotalBytes = l.budget, l.budget
	docs, report, err := ingest.LoadReader(ctx, r, name, opts)
	if err != nil {
		return err
	}
	for _, d := range docs {
		l.budget -= int64(len(d.Question) + len(d.Answer) + len(d.Body) + len(d.Title))
		for _, t := range d.Transcript {
			l.budget -= int64(len(t.Text))
		}
	}
	l.docs = append(l.docs, docs...)
	l.skipped = append(l.skipped, report.Skipped...)
	l.files += report.Files
	if len(l.docs) > l.maxRecords {
		return &ingest.InputError{Origin: name,
			Msg: fmt.Sprintf("too many records: the upload holds more than %d, the limit per upload", l.maxRecords), Err: ingest.ErrTooMany}
	}
	return nil
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
		text := parley.ErrorMessage(ingestError(err))
		if parley.ErrorCode(ingestError(err)) == parley.EInternal {
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
