package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/ingest/pdftest"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// testTokenizer is shared: it takes a moment to load.
var testTokenizer = sync.OnceValues(llm.NewTokenizer)

func testPipeline(t *testing.T) *ingest.Pipeline {
	t.Helper()
	tok, err := testTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return ingest.NewPipeline(pgtest.DB(t), retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
}

// testKnowledge returns a knowledge service over the test database and
// testPipeline, training with trainer (nil: none) on the local embedder's
// vectors and logging to log.
func testKnowledge(t *testing.T, trainer knowledge.Trainer, log *slog.Logger) *knowledge.Service {
	t.Helper()
	return knowledge.New(pgtest.DB(t), testPipeline(t), trainer, retrieval.LocalModel, log)
}

// ingestEnv is an env whose server takes uploads, with its knowledge base
// "faq" created.
type ingestEnv struct {
	*env
	admin     string
	queue     *postgres.Queue // runs its jobs
	queueName string          // the River queue they are on
}

// startJobs starts a job queue, like a server's, running ingest jobs with
// ing on the River queue named name (a new one when ""), and returns it and
// what queues jobs on it. The test's end stops it.
func startJobs(t *testing.T, name string, ing jobs.Ingester) (*postgres.Queue, string, jobs.Enqueuer) {
	t.Helper()
	if name == "" {
		name = fmt.Sprintf("test_%d_%d", time.Now().UnixNano(), queueSeq.Add(1))
	}
	w := jobs.NewIngest(pgtest.DB(t), ing, jobs.IngestOptions{})
	workers := river.NewWorkers()
	w.Register(workers)
	q := startQueue(t, name, workers)
	return q, name, w.On(q)
}

// startQueue starts the River queue named name running workers; the
// test's end stops it.
func startQueue(t *testing.T, name string, workers *river.Workers) *postgres.Queue {
	t.Helper()
	q, err := postgres.NewQueue(context.Background(), pgtest.DB(t), postgres.QueueOptions{Workers: workers, Name: name, Concurrency: 1, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

var queueSeq atomic.Int64

// newIngestEnv starts a server with uploads on, and a queue running its
// background jobs with its Knowledge; set changes its options.
func newIngestEnv(t *testing.T, set func(*api.Options)) *ingestEnv {
	t.Helper()
	var (
		queue *postgres.Queue
		name  string
	)
	e := newEnvWith(t, func(o *api.Options) {
		if set != nil {
			set(o)
		}
		queue, name, o.IngestJobs = startJobs(t, "", o.Knowledge)
	})
	ie := &ingestEnv{env: e, admin: e.keys[parley.RoleAdmin], queue: queue, queueName: name}
	if status, body := e.do("POST", "/v1/knowledge-bases", ie.admin, `{"name": "faq"}`); status != 201 {
		t.Fatalf("create knowledge base: %d %v", status, body)
	}
	return ie
}

// uploadFile is one "file" part of a multipart upload.
type uploadFile struct {
	name string
	data []byte
}

func csvFile(name, content string) uploadFile { return uploadFile{name, []byte(content)} }

// upload posts files and form fields ("name=value") to a knowledge base
// and returns the status, the decoded body and the Location header.
func (e *ingestEnv) upload(kb, key string, files []uploadFile, fields ...string) (int, map[string]any, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(f.data)
	}
	for _, f := range fields {
		name, value, _ := strings.Cut(f, "=")
		mw.WriteField(name, value)
	}
	mw.Close()
	return e.post(kb, key, mw.FormDataContentType(), buf.Bytes())
}

// uploadJSON posts a JSON upload.
func (e *ingestEnv) uploadJSON(kb, body string) (int, map[string]any, string) {
	e.t.Helper()
	return e.post(kb, e.admin, "application/json", []byte(body))
}

func (e *ingestEnv) post(kb, key, contentType string, body []byte) (int, map[string]any, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/knowledge-bases/"+kb+"/uploads", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("upload: status %d, body is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out, resp.Header.Get("Location")
}

// wantResult checks a 200 upload answer's counts.
func wantResult(t *testing.T, status int, body map[string]any, want map[string]float64) {
	t.Helper()
	res, _ := body["result"].(map[string]any)
	if status != 200 || res == nil {
		t.Fatalf("upload: %d %v, want 200 with a result", status, body)
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("result %s = %v, want %v (result %v)", k, res[k], v, res)
		}
	}
}

// sourceCount counts the sources the API lists for knowledge base "faq".
func (e *ingestEnv) sourceCount() int {
	e.t.Helper()
	status, body := e.do("GET", "/v1/knowledge-bases/faq/sources?limit=1000", e.admin, "")
	if status != 200 {
		e.t.Fatalf("list sources: %d %v", status, body)
	}
	srcs, _ := body["sources"].([]any)
	return len(srcs)
}

const faqCSV = `id,question,answer,tags
pw,How do I reset my password?,Use the reset link on the sign-in page.,account
ship,How long does delivery take?,Three to five working days.,orders
pay,Which cards do you take?,"Visa, Mastercard and Amex.",billing
`

func TestUploadCSVLifecycle(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	file := func(content string) []uploadFile { return []uploadFile{csvFile("faq.csv", content)} }

	status, body, _ := e.upload("faq", e.admin, file(faqCSV))
	// Each entry is two chunks (question and answer), both embedded.
	wantResult(t, status, body, map[string]float64{"added": 3, "unchanged": 0, "embedded": 6})
	if body["documents"] != 3.0 || body["files"] != 1.0 {
		t.Errorf("documents/files: %v", body)
	}
	status, list := e.do("GET", "/v1/knowledge-bases/faq/sources", e.admin, "")
	srcs, _ := list["sources"].([]any)
	if status != 200 || len(srcs) != 3 || srcs[0].(map[string]any)["external_id"] != "pw" {
		t.Fatalf("sources after upload: %d %v", status, list)
	}

	status, body, _ = e.upload("faq", e.admin, file(faqCSV))
	wantResult(t, status, body, map[string]float64{"added": 0, "updated": 0, "unchanged": 3, "embedded": 0})

	changed := strings.Replace(faqCSV, "Three to five working days.", "Two to four working days.", 1)
	status, body, _ = e.upload("faq", e.admin, file(changed), "dry_run=true")
	wantResult(t, status, body, map[string]float64{"updated": 1, "unchanged": 2, "embedded": 0})
	if body["dry_run"] != true {
		t.Errorf("dry run not reported: %v", body)
	}
	status, body, _ = e.upload("faq", e.admin, file(changed))
	wantResult(t, status, body, map[string]float64{"updated": 1, "unchanged": 2, "embedded": 2})

	onlyOne := "id,question,answer\npw,How do I reset my password?,Use the reset link on the sign-in page.\n"
	status, body, _ = e.upload("faq", e.admin, file(onlyOne))
	wantResult(t, status, body, map[string]float64{"unchanged": 0, "updated": 1, "pruned": 0}) // tags dropped
	if n := e.sourceCount(); n != 3 {
		t.Fatalf("without prune: %d sources, want 3", n)
	}
	// A dry run with prune names what would be deleted, and deletes nothing.
	status, body, _ = e.upload("faq", e.admin, file(onlyOne), "prune=true", "dry_run=true")
	wantResult(t, status, body, map[string]float64{"unchanged": 1, "pruned": 2})
	if ids := body["result"].(map[string]any)["pruned_ids"]; fmt.Sprint(ids) != "[pay ship]" {
		t.Errorf("pruned_ids %v, want [pay ship]", ids)
	}
	if n := e.sourceCount(); n != 3 {
		t.Fatalf("after a dry run with prune: %d sources, want 3", n)
	}
	status, body, _ = e.upload("faq", e.admin, file(onlyOne), "prune=true")
	wantResult(t, status, body, map[string]float64{"unchanged": 1, "pruned": 2})
	if _, ok := body["result"].(map[string]any)["pruned_ids"]; ok {
		t.Errorf("pruned_ids outside a dry run: %v", body)
	}
	if n := e.sourceCount(); n != 1 {
		t.Fatalf("after prune: %d sources, want 1", n)
	}
}

func TestUploadOptionsAndFormats(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	banking := "text,category\nMy card has not arrived yet,card_arrival\nHow do I top up?,top_up\n"
	article := "# Returns\n\nYou can return any plant within 30 days.\n"
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("guides/care.md")
	w.Write([]byte("# Care\n\nWater weekly.\n"))
	zw.Close()

	// Form fields may come after the files they apply to.
	status, body, _ := e.upload("faq", e.admin, []uploadFile{csvFile("train.csv", banking)},
		"column=question=text", "column=intent=category", "kind=faq")
	wantResult(t, status, body, map[string]float64{"added": 2})
	status, body, _ = e.upload("faq", e.admin, []uploadFile{csvFile("returns.md", article), {"guides.zip", zipped.Bytes()}})
	wantResult(t, status, body, map[string]float64{"added": 2})
	if body["files"] != 2.0 {
		t.Errorf("files: %v", body["files"])
	}
	if n := e.sourceCount(); n != 4 {
		t.Fatalf("%d sources, want 4", n)
	}
}

func TestUploadJSONRecords(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	status, body, _ := e.uploadJSON("faq", `{"records": [
		{"id": "pw", "question": "How do I reset my password?", "answer": "Use the reset link.", "tags": ["account"]},
		{"question": "Where is my parcel?", "intent": "delivery"}
	], "kind": "faq"}`)
	wantResult(t, status, body, map[string]float64{"added": 2})
	status, body, _ = e.uploadJSON("faq", `{"records": [{"id": "pw", "question": "How do I reset my password?", "answer": "Use the reset link.", "tags": ["account"]}], "prune": true}`)
	wantResult(t, status, body, map[string]float64{"unchanged": 1, "pruned": 1})

	status, body, _ = e.uploadJSON("faq", `{"conversations": [
		{"id": "c-1", "messages": [{"role": "customer", "text": "My order is late, mail me at ann@example.com"}, {"role": "agent", "text": "It ships tomorrow."}]}
	]}`)
	wantResult(t, status, body, map[string]float64{"added": 1})
	if n := e.sourceCount(); n != 2 {
		t.Fatalf("%d sources, want 2", n)
	}
}

func TestUploadRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) {
		o.MaxUploadBytes = 64 << 10
		o.MaxUploadRecords = 5
	})
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("huge.txt")
	w.Write(bytes.Repeat([]byte("aaaaaaaa"), 1<<17)) // 1 MiB, compresses to about 1 KiB
	zw.Close()
	sixRows := "question,answer\n"
	for i := range 6 {
		sixRows += fmt.Sprintf("Question %d?,Answer %d.\n", i, i)
	}
	multipartTests := []struct {
		name    string
		files   []uploadFile
		fields  []string
		status  int
		code    string
		message []string
	}{
		{"broken CSV", []uploadFile{csvFile("faq.csv", "question,answer\nFine?,Yes.\n,No question here\n")}, nil,
			400, "invalid", []string{"faq.csv:3", `"question"`, "empty"}},
		{"unknown format", []uploadFile{csvFile("faq.xlsx", "x")}, nil, 400, "invalid", []string{"faq.xlsx"}},
		{"no files", nil, []string{"prune=true"}, 400, "invalid", []string{"no files"}},
		{"unknown field", []uploadFile{csvFile("faq.csv", faqCSV)}, []string{"purne=true"}, 400, "invalid", []string{`"purne"`}},
		{"bad bool", []uploadFile{csvFile("faq.csv", faqCSV)}, []string{"prune=maybe"}, 400, "invalid", []string{"prune"}},
		{"bad column", []uploadFile{csvFile("faq.csv", faqCSV)}, []string{"column=question"}, 400, "invalid", []string{"FIELD=COLUMN"}},
		{"bad kind", []uploadFile{csvFile("faq.csv", faqCSV)}, []string{"kind=poem"}, 400, "invalid", []string{"poem"}},
		{"question of one letter over 16 KB", []uploadFile{csvFile("l.csv", "question,answer\n"+strings.Repeat("q", 40000)+",a\n")}, []string{"dry_run=true"},
			400, "invalid", []string{"l.csv:2", `"question"`, "over the limit of 16384"}},
		{"same id in two files", []uploadFile{csvFile("a.csv", "id,question,answer\nx,Q?,A.\n"), csvFile("b.csv", "id,question,answer\nx,R?,B.\n")}, nil,
			400, "invalid", []string{"b.csv:2", `"id"`}},
		{"body over the limit", []uploadFile{csvFile("big.csv", "question,answer\n"+strings.Repeat("Why?,Because.\n", 6000))}, nil,
			413, "too_large", []string{"65536"}},
		{"zip bomb", []uploadFile{{"bomb.zip", bomb.Bytes()}}, nil, 413, "too_large", []string{"65536"}},
		{"too many records", []uploadFile{csvFile("faq.csv", sixRows)}, nil, 413, "too_large", []string{"limit is 5"}},
		{"too many records over files", []uploadFile{csvFile("a.csv", faqCSV), csvFile("b.csv", strings.ReplaceAll(faqCSV, "?", "??"))}, nil,
			413, "too_large", []string{"more than 5"}},
	}
	for _, tt := range multipartTests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.upload("faq", e.admin, tt.files, tt.fields...)
			wantError(t, status, body, tt.status, tt.code)
			msg := body["error"].(map[string]any)["message"].(string)
			for _, m := range tt.message {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q does not contain %q", msg, m)
				}
			}
		})
	}
	jsonTests := []struct{ name, body, message string }{
		{"no records", `{"prune": true}`, "records"},
		{"empty records", `{"records": []}`, "empty"},
		{"unknown record field", `{"records": [{"question": "Q?", "answer": "A."}, {"qestion": "Q?"}]}`, `records:2: unknown field "qestion"`},
		{"record not an object", `{"records": ["Q?"]}`, "records:1"},
		{"empty question", `{"records": [{"question": "", "answer": "A."}]}`, `records:1: field "question"`},
		{"unknown top-level field", `{"record": []}`, `"record"`},
		{"article kind", `{"records": [{"question": "Q?", "answer": "A."}], "kind": "article"}`, "articles"},
	}
	for _, tt := range jsonTests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.uploadJSON("faq", tt.body)
			wantError(t, status, body, 400, "invalid")
			if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not contain %q", msg, tt.message)
			}
		})
	}
	status, body, _ := e.post("faq", e.admin, "text/csv", []byte(faqCSV))
	wantError(t, status, body, 415, "unsupported_media_type")

	if n := e.sourceCount(); n != 0 {
		t.Fatalf("rejected uploads wrote %d sources", n)
	}
}

// A zip bomb and a body over the limit leave a loaded knowledge base as it
// was.
func TestRejectedUploadLeavesDatabaseUnchanged(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) { o.MaxUploadBytes = 64 << 10 })
	status, body, _ := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	wantResult(t, status, body, map[string]float64{"added": 3})
	_, before := e.do("GET", "/v1/knowledge-bases/faq", e.admin, "")

	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("faq.csv")
	w.Write([]byte("id,question,answer\nnew,A new question?,A new answer.\n"))
	w, _ = zw.Create("zz.txt")
	w.Write(bytes.Repeat([]byte("zzzzzzzz"), 1<<17))
	zw.Close()
	status, body, _ = e.upload("faq", e.admin, []uploadFile{{"bomb.zip", bomb.Bytes()}}, "prune=true")
	wantError(t, status, body, 413, "too_large")
	big := "id,question,answer\n" + strings.Repeat("x,Why?,Because.\n", 6000)
	status, body, _ = e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", big)}, "prune=true")
	wantError(t, status, body, 413, "too_large")

	_, after := e.do("GET", "/v1/knowledge-bases/faq", e.admin, "")
	if before["sources"] != 3.0 || after["sources"] != before["sources"] || after["chunks"] != before["chunks"] {
		t.Fatalf("counts changed: before %v, after %v", before, after)
	}
}

func TestUploadAccess(t *testing.T) {
	t.Parallel()
	a := newIngestEnv(t, nil)
	b := newIngestEnv(t, nil)
	files := []uploadFile{csvFile("faq.csv", faqCSV)}
	for _, role := range []parley.Role{parley.RoleWidget, parley.RoleAgent} {
		status, body, _ := a.upload("faq", a.keys[role], files)
		wantError(t, status, body, 403, "forbidden")
	}
	_, kbB := b.do("GET", "/v1/knowledge-bases/faq", b.admin, "")
	for _, ref := range []string{"missing", kbB["id"].(string)} {
		status, body, _ := a.upload(ref, a.admin, files)
		wantError(t, status, body, 404, "not_found")
		status, body = a.do("GET", "/v1/knowledge-bases/"+ref+"/jobs/00000000-0000-0000-0000-000000000000", a.admin, "")
		wantError(t, status, body, 404, "not_found")
	}
	if n := b.sourceCount(); n != 0 {
		t.Fatalf("workspace B got %d sources from A", n)
	}
	status, body := a.do("GET", "/v1/knowledge-bases/faq/jobs/not-a-uuid", a.admin, "")
	wantError(t, status, body, 404, "not_found")
}

// pollJob polls a job until it ends.
func (e *ingestEnv) pollJob(location string) map[string]any {
	e.t.Helper()
	return e.waitJob(location, func(job map[string]any) bool { return job["state"] == "succeeded" || job["state"] == "failed" })
}

// waitJob polls a job until done says so, for up to 30 s.
func (e *ingestEnv) waitJob(location string, done func(job map[string]any) bool) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, job := e.do("GET", location, e.admin, "")
		if status != 200 {
			e.t.Fatalf("poll %s: %d %v", location, status, job)
		}
		if done(job) {
			return job
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job still %v after 30 s: %v", job["state"], job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLargeUploadRunsAsJob(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) { o.SyncIngestMax = 2 })
	status, body, location := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	job, _ := body["job"].(map[string]any)
	if status != 202 || job == nil || job["state"] != "queued" || location == "" || !strings.HasSuffix(location, job["id"].(string)) {
		t.Fatalf("upload: %d %v (Location %q), want 202 with a queued job", status, body, location)
	}
	if planned, _ := job["planned"].(map[string]any); planned["added"] != 3.0 || job["to_write"] != 3.0 {
		t.Errorf("job plan: %v", job)
	}
	job = e.pollJob(location)
	res, _ := job["result"].(map[string]any)
	if job["state"] != "succeeded" || job["attempt"] != 1.0 || res["added"] != 3.0 || res["embedded"] != 6.0 || job["written"] != 3.0 || job["error"] != nil {
		t.Fatalf("job: %v", job)
	}
	if n := e.sourceCount(); n != 3 {
		t.Fatalf("%d sources after the job, want 3", n)
	}
	// Unchanged, it is small again: answered at once.
	status, body, _ = e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	wantResult(t, status, body, map[string]float64{"unchanged": 3})
}

// recordingIngester records the requests it runs.
type recordingIngester struct {
	api.Knowledge
	mu   sync.Mutex
	reqs []ingest.Request
}

func (r *recordingIngester) Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Knowledge.Ingest(ctx, req)
}

func (r *recordingIngester) take() []ingest.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}

// An upload is planned once: a small one is written by the run that plans
// it, a large one's job writes the plan made for it.
func TestUploadIsPlannedOnce(t *testing.T) {
	t.Parallel()
	rec := &recordingIngester{Knowledge: testKnowledge(t, nil, nil)}
	e := newIngestEnv(t, func(o *api.Options) { o.SyncIngestMax, o.Knowledge = 4, rec })
	status, body, _ := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", "id,question,answer\npw,How do I reset my password?,Use the link.\n")})
	wantResult(t, status, body, map[string]float64{"added": 1, "embedded": 2})
	if reqs := rec.take(); len(reqs) != 1 || reqs[0].DeferAbove != 4 {
		t.Fatalf("small upload ran %d times (%+v), want once, deferring above 4 chunks", len(reqs), reqs)
	}

	status, body, location := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	if status != 202 {
		t.Fatalf("large upload: %d %v, want 202", status, body)
	}
	if job := e.pollJob(location); job["state"] != "succeeded" {
		t.Fatalf("job: %v", job)
	}
	reqs := rec.take()
	if len(reqs) != 2 || len(reqs[0].Docs) != 3 || reqs[1].Deferred == nil || reqs[1].Docs != nil {
		t.Fatalf("large upload ran %d times (%+v), want a run that plans and one that writes the deferred plan", len(reqs), reqs)
	}
}

// blockingIngester plans like the pipeline but blocks the runs of deferred
// plans (jobs) until their context ends.
type blockingIngester struct{ api.Knowledge }

func (b blockingIngester) Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error) {
	if req.Deferred == nil {
		return b.Knowledge.Ingest(ctx, req)
	}
	<-ctx.Done()
	return ingest.Result{}, ctx.Err()
}

// A workspace has at most jobs.DefaultMaxPending jobs queued or running.
// A server that stops with jobs running cancels them when its time is up:
// they wrote nothing and go back to queued, and another server (here a
// second queue, as on another replica) runs them.
func TestJobsAreBoundedAndRunAgainAfterShutdown(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) {
		o.SyncIngestMax = 1
		o.Knowledge = blockingIngester{testKnowledge(t, nil, nil)}
	})
	files := []uploadFile{csvFile("faq.csv", faqCSV)}
	var locations []string
	for range jobs.DefaultMaxPending {
		status, body, location := e.upload("faq", e.admin, files)
		if status != 202 {
			t.Fatalf("upload: %d %v", status, body)
		}
		locations = append(locations, location)
	}
	status, body, _ := e.upload("faq", e.admin, files)
	wantError(t, status, body, 503, "unavailable")
	e.waitJob(locations[0], func(job map[string]any) bool { return job["state"] == "running" })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.queue.Stop(ctx); err == nil {
		t.Fatal("Stop with a blocked job returned no error")
	}
	_, job := e.do("GET", locations[0], e.admin, "")
	if job["state"] != "queued" || job["attempt"] != 1.0 || !strings.Contains(fmt.Sprint(job["error"]), "shut down") {
		t.Errorf("running job after shutdown: %v", job)
	}
	if n := e.sourceCount(); n != 0 {
		t.Fatalf("cancelled job wrote %d sources", n)
	}

	startJobs(t, e.queueName, testKnowledge(t, nil, nil))
	for _, loc := range locations {
		if job := e.pollJob(loc); job["state"] != "succeeded" {
			t.Fatalf("job after another server took it: %v", job)
		}
	}
	if n := e.sourceCount(); n != 3 {
		t.Fatalf("%d sources after the jobs, want 3", n)
	}
}

// A job the queue gave up on (the server of its last attempt died) is
// reported failed.
func TestLostJobIsFailed(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) { o.SyncIngestMax = 2 })
	db := pgtest.DB(t)
	ctx := context.Background()
	// The queue is stopped first, so that the job stays queued.
	stopped, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.queue.Stop(stopped); err != nil {
		t.Fatal(err)
	}
	_, body, location := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	id := body["job"].(map[string]any)["id"]
	if _, err := db.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
		WHERE id = (SELECT river_job_id FROM ingest_jobs WHERE id = $1)`, id); err != nil {
		t.Fatal(err)
	}
	_, job := e.do("GET", location, e.admin, "")
	if job["state"] != "failed" || !strings.Contains(fmt.Sprint(job["error"]), "interrupted") {
		t.Fatalf("lost job: %v", job)
	}
}

// A PDF uploads like any article: its page without text is reported, and
// answers cite the page they come from.
func TestUploadPDF(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	pdf, err := pdftest.Build("Plant Care Guide", []pdftest.Page{
		{Outline: "Watering", Columns: [][]string{{"Water your fern twice a week in summer and once a week in winter."}}},
		{Image: true},
		{Outline: "Repotting", Columns: [][]string{{"Repot in spring into a pot one size larger, with fresh compost."}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := e.upload("faq", e.admin, []uploadFile{{"care-guide.pdf", pdf}})
	wantResult(t, status, body, map[string]float64{"added": 1})
	skipped, _ := json.Marshal(body["skipped"])
	if !strings.Contains(string(skipped), "care-guide.pdf page 2") || !strings.Contains(string(skipped), "no text layer") {
		t.Errorf("skipped = %s, want page 2 without a text layer", skipped)
	}

	status, out := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget],
		`{"message": {"text": "How often should I water my fern in winter?"}}`)
	if status != 200 {
		t.Fatalf("answer: %d %v", status, out)
	}
	raw, _ := json.Marshal(out)
	if !strings.Contains(string(raw), `"section":"Watering \u003e Page 1"`) && !strings.Contains(string(raw), `"section":"Watering > Page 1"`) {
		t.Errorf("answer %s does not cite Watering > Page 1", raw)
	}
}

// A source is deleted by its numeric id or by its external id; a path that
// names one source by number and another by external id deletes nothing
// until ?by= says which.
func TestDeleteSourceByIDOrExternalID(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	status, body, _ := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	wantResult(t, status, body, map[string]float64{"added": 3})
	ids := map[string]string{} // external id -> numeric id
	_, list := e.do("GET", "/v1/knowledge-bases/faq/sources", e.admin, "")
	for _, s := range list["sources"].([]any) {
		src := s.(map[string]any)
		ids[src["external_id"].(string)] = fmt.Sprint(src["id"])
	}
	del := func(ref string) (int, map[string]any) {
		return e.do("DELETE", "/v1/knowledge-bases/faq/sources/"+ref, e.admin, "")
	}
	if status, body := del("pw"); status != 204 {
		t.Fatalf("delete by external id: %d %v", status, body)
	}
	if status, body := del(ids["ship"]); status != 204 {
		t.Fatalf("delete by numeric id: %d %v", status, body)
	}
	if n := e.sourceCount(); n != 1 {
		t.Fatalf("%d sources left, want 1", n)
	}
	// An entry whose external id is the number of "pay".
	status, body, _ = e.uploadJSON("faq", `{"records": [{"id": "`+ids["pay"]+`", "question": "Do you ship abroad?", "answer": "Yes, to the EU."}]}`)
	wantResult(t, status, body, map[string]float64{"added": 1})
	if status, body := del(ids["pay"]); status != 409 || !strings.Contains(fmt.Sprint(body), "by=id") {
		t.Fatalf("ambiguous ref: %d %v, want 409 naming by=", status, body)
	}
	if n := e.sourceCount(); n != 2 {
		t.Fatalf("the ambiguous delete removed something: %d sources, want 2", n)
	}
	for _, c := range []struct {
		ref    string
		status int
	}{
		{ids["pay"] + "?by=external_id", 204},
		{ids["pay"] + "?by=id", 204},
		{ids["pay"] + "?by=id", 404},
		{"pw", 404},
		{"pw?by=id", 400},
		{"pw?by=name", 400},
	} {
		if status, body := del(c.ref); status != c.status {
			t.Errorf("DELETE sources/%s: %d %v, want %d", c.ref, status, body, c.status)
		}
	}
	if n := e.sourceCount(); n != 0 {
		t.Fatalf("%d sources left, want 0", n)
	}
}

// flakyIngester plans like the pipeline; the runs of jobs (not asked to
// defer) fail with the errors of fail, in turn, then run.
type flakyIngester struct {
	api.Knowledge
	mu   sync.Mutex
	fail []error
}

func (f *flakyIngester) Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error) {
	if req.DeferAbove == 0 {
		f.mu.Lock()
		var err error
		if len(f.fail) > 0 {
			err, f.fail = f.fail[0], f.fail[1:]
		}
		f.mu.Unlock()
		if err != nil {
			return ingest.Result{}, err
		}
	}
	return f.Knowledge.Ingest(ctx, req)
}

// A job run that fails for a reason of its own (the database, the
// embedder) is run again, as attempt 2; one that fails because of what
// was uploaded fails at once.
func TestJobAttempts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		err     error
		state   string
		attempt float64
		message string
	}{
		{"internal error", errors.New("connection reset"), "succeeded", 2, ""},
		{"the upload's own problem", parley.Errorf(parley.ENotFound, "knowledge base gone"), "failed", 1, "knowledge base gone; nothing was written"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newIngestEnv(t, func(o *api.Options) {
				o.SyncIngestMax = 2
				o.Knowledge = &flakyIngester{Knowledge: testKnowledge(t, nil, nil), fail: []error{tt.err}}
			})
			status, body, location := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
			if status != 202 {
				t.Fatalf("upload: %d %v", status, body)
			}
			job := e.pollJob(location)
			if job["state"] != tt.state || job["attempt"] != tt.attempt || fmt.Sprint(job["error"]) != fmt.Sprint(orNil(tt.message)) {
				t.Fatalf("job: %v; want %s after attempt %v, error %q", job, tt.state, tt.attempt, tt.message)
			}
		})
	}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
