package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// Defaults for the upload Options left zero.
const (
	DefaultMaxUploadBytes   = 64 << 20
	DefaultMaxUploadRecords = 100_000
	DefaultSyncIngestMax    = 500
)

// uploadRoute is the route whose bodies are capped at MaxUploadBytes
// instead of MaxBodyBytes.
const uploadRoute = "/v1/knowledge-bases/:kb/uploads"

// uploadReadTimeout replaces the server's read timeout for an upload body,
// which may be large and come over a slow link.
const uploadReadTimeout = 10 * time.Minute

// bodyLimit caps request bodies: uploads at MaxUploadBytes, eval reports
// at MaxEvalReportBytes, everything else at MaxBodyBytes.
func (s *Server) bodyLimit() gin.HandlerFunc {
	small, large := limitBody(s.opts.MaxBodyBytes), limitBody(s.maxUploadBytes())
	report := limitBody(positive(s.opts.MaxEvalReportBytes, DefaultMaxEvalReportBytes))
	return func(c *gin.Context) {
		switch strings.TrimPrefix(c.FullPath(), consoleAPI) {
		case uploadRoute:
			large(c)
		case evalRunsRoute:
			report(c)
		default:
			small(c)
		}
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
// Location to poll) that writes the plan already made.
func (s *Server) postUpload(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	k := s.knowledgeChanges(c)
	if k == nil {
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
	req := ingest.Request{WorkspaceID: ws, KBID: kb.ID, Docs: up.docs, Prune: up.prune, DryRun: up.dryRun, DeferAbove: s.syncMax()}
	res, err := k.Ingest(ctx, req)
	if err != nil {
		fail(c, ingestError(err))
		return
	}
	skipped := nonNilSkipped(up.skipped)
	plan := res.Deferred()
	if plan == nil { // written, or a dry run
		c.JSON(http.StatusOK, uploadResponse{KBID: kb.ID, Documents: len(up.docs), Files: up.files, DryRun: up.dryRun,
			Result: res, ElapsedMS: res.Elapsed.Milliseconds(), Skipped: skipped})
		return
	}
	if s.opts.IngestJobs == nil {
		fail(c, parley.Errorf(parley.EUnavailable, "background ingest jobs are not enabled on this server; upload at most %d chunks at once", s.syncMax()))
		return
	}
	job, err := s.opts.IngestJobs.Enqueue(ctx, req, plan, ingest.JobCounts{Documents: len(up.docs), Planned: res})
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/knowledge-bases/"+kb.ID+"/jobs/"+job.ID)
	c.JSON(http.StatusAccepted, gin.H{"job": newJobResponse(job), "skipped": skipped})
}

func nonNilSkipped(s []ingest.Skipped) []ingest.Skipped {
	if s == nil {
		return []ingest.Skipped{}
	}
	return s
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
		return upload{}, &parley.Error{Code: codeUnsupportedType, Message: fmt.Sprintf(
			"Content-Type must be multipart/form-data (files in \"file\" parts) or application/json (records), got %q", ct)}
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
		field, col, err := ingest.ParseColumn(v)
		if err != nil {
			return up, opts, parley.Errorf(parley.EInvalid, "form field column: %v", err)
		}
		if opts.Columns == nil {
			opts.Columns = map[string]string{}
		}
		opts.Columns[field] = col
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
	return parseBool("form field "+name, first(form[name]))
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
	fields := ingest.FAQFields() // the keys a FAQ record may have
	var buf bytes.Buffer
	for i, raw := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, parley.Errorf(parley.EInvalid, "%s:%d: want a JSON object", name, i+1)
		}
		if kind == ingest.KindFAQ {
			for k := range obj {
				if !slices.Contains(fields, strings.ToLower(k)) {
					return nil, parley.Errorf(parley.EInvalid, "%s:%d: unknown field %q (known: %s)", name, i+1, k, strings.Join(fields, ", "))
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
	opts    ingest.LoadOptions // its MaxRecords caps all files together too
	budget  int64
	docs    []ingest.Document
	skipped []ingest.Skipped
	files   int
}

func (s *Server) newLoader(opts ingest.LoadOptions) *loader {
	opts.MaxRecords = s.maxRecords()
	return &loader{opts: opts, budget: s.maxUploadBytes()}
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
	if len(l.docs) > l.opts.MaxRecords {
		return &ingest.InputError{Origin: name,
			Msg: fmt.Sprintf("too many records: the upload holds more than %d, the limit per upload", l.opts.MaxRecords), Err: ingest.ErrTooMany}
	}
	return nil
}
