package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// A workspace that grows past 2,000 chunks through small ingests (with
// the local embedder, through the knowledge service) gets an index of its
// own from a background job queued by the ingest that crossed the line,
// and its searches find their entries through it.
func TestSmallIngestsQueueTheWorkspaceIndexBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, ws, kb, pipe := newIndexWorkspace(t, "grows", 4)
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	embedder := retrieval.NewLocal()
	svc := knowledge.New(db, pipe, nil, retrieval.LocalModel, log)
	w := jobs.NewVectorIndex(db, 0, log)
	q := startQueue(t, db, w.Register, postgres.QueueOptions{Logger: log})
	svc.WithVectorIndexQueue(w.On(q))

	generation := func() (g int64) {
		if err := db.Pool().QueryRow(ctx, `SELECT coalesce((SELECT generation FROM vector_indexes WHERE workspace_id = $1), 0)`, ws.ID).Scan(&g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	// Three loads of 400 entries, two chunks each (question, answer).
	for load := range 3 {
		var docs []ingest.Document
		for i := range 400 {
			n := load*400 + i
			docs = append(docs, ingest.Document{ExternalID: fmt.Sprintf("faq-%d", n), Kind: ingest.KindFAQ,
				Question: fmt.Sprintf("How do I configure widget number %d for account %d?", n, n*7),
				Answer:   fmt.Sprintf("Open settings %d and choose option %d.", n, n*3)})
		}
		if _, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs}); err != nil {
			t.Fatal(err)
		}
		if load < 2 && generation() != 0 {
			t.Fatalf("after %d chunks the workspace has an index of its own", (load+1)*800)
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		need, err := db.NeedsVectorIndex(ctx, ws.ID, retrieval.LocalModel)
		if err != nil {
			t.Fatal(err)
		}
		if !need && generation() != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no index of its own after 2 minutes; log:\n%s", logs.String())
		}
	}
	question := "How do I configure widget number 1034 for account 7238?"
	vec, err := embedder.Embed(ctx, []string{question})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := db.VectorSearch(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: retrieval.LocalModel, Vector: vec[0], Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].ExternalID != "faq-1034" {
		t.Fatalf("search through the workspace's index: %d hits, first %+v", len(hits), hits[:min(1, len(hits))])
	}
}

// An index build that outlasts the queue's job timeout is not cut short:
// its timeout is sized to its vectors. Here the queue's is 1 s, and the
// build (CREATE INDEX CONCURRENTLY) waits 3 s for a writer's transaction
// held open; it completes in its first attempt.
func TestIndexBuildOutlastsTheQueueTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, ws, kb, pipe := newIndexWorkspace(t, "large", 6)
	var docs []ingest.Document // 2,200 chunks: past exact search, short of a large load
	for i := range 1100 {
		docs = append(docs, ingest.Document{ExternalID: fmt.Sprintf("faq-%d", i), Kind: ingest.KindFAQ,
			Question: fmt.Sprintf("How do I renew licence %d?", i), Answer: fmt.Sprintf("Open page %d.", i)})
	}
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs}); err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	w := jobs.NewVectorIndex(db, time.Second, slog.New(slog.NewTextHandler(logs, nil)))
	q := startQueue(t, db, w.Register, postgres.QueueOptions{JobTimeout: time.Second})

	writer, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Exec(ctx, `UPDATE chunks SET ordinal = ordinal WHERE false`); err != nil {
		t.Fatal(err)
	}
	if err := w.On(q).QueueVectorIndex(ctx, ws.ID, retrieval.LocalModel); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := writer.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var (
		state   string
		attempt int
		errs    int
		ran     time.Duration
	)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		err := db.Pool().QueryRow(ctx, `SELECT state::text, attempt, coalesce(array_length(errors, 1), 0),
				coalesce(extract(epoch FROM finalized_at - attempted_at), 0)::float8 * interval '1 second'
			FROM river_job WHERE kind = 'vector_index'`).Scan(&state, &attempt, &errs, &ran)
		if err != nil {
			t.Fatal(err)
		}
		if state == "completed" || time.Now().After(deadline) {
			break
		}
	}
	if state != "completed" || attempt != 1 || errs != 0 {
		t.Fatalf("build job %s after %d attempts, %d errors; log:\n%s", state, attempt, errs, logs.String())
	}
	if ran < 2*time.Second {
		t.Fatalf("the build ran %s: it did not outlast the queue's 1 s timeout, so this test shows nothing", ran)
	}
	if need, err := db.NeedsVectorIndex(ctx, ws.ID, retrieval.LocalModel); err != nil || need {
		t.Fatalf("after the build the workspace still needs an index (%v)", err)
	}
}

// Ingest jobs and index builds keep the queue's timeout when small (a job
// whose server died is run again that soon), and get one sized to their
// vectors when large: more than the slowest build measured, 9.3 ms a
// vector of wall time (BENCHMARKS.md), for 300,000 vectors.
func TestJobTimeoutsAreSizedToTheirVectors(t *testing.T) {
	t.Parallel()
	queue := 6 * time.Second
	ing := jobs.NewIngest(nil, nil, jobs.IngestOptions{JobTimeout: queue})
	build := jobs.NewVectorIndex(nil, queue, nil)
	for _, n := range []int{0, 100, 300_000} {
		timeouts := map[string]time.Duration{
			"ingest":      ing.Timeout(&river.Job[jobs.IngestArgs]{Args: jobs.IngestArgs{Chunks: n}}),
			"index build": build.Timeout(&river.Job[jobs.VectorIndexArgs]{Args: jobs.VectorIndexArgs{Vectors: n}}),
		}
		for kind, got := range timeouts {
			least := max(queue, time.Duration(n)*93*time.Millisecond/10)
			if got < least || n <= 100 && got != queue {
				t.Errorf("%s of %d vectors: timeout %s, want the queue's %s or, when large, more than %s", kind, n, got, queue, least)
			}
		}
	}
}

// newIndexWorkspace returns a fresh database (a pool of conns) with a
// workspace named name and its knowledge base, and a pipeline into it
// (local embedder).
func newIndexWorkspace(t *testing.T, name string, conns int32) (*postgres.DB, parley.Workspace, parley.KnowledgeBase, *ingest.Pipeline) {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.FreshDBURL(t, conns)
	ws, _, err := db.EnsureWorkspace(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return db, ws, kb, ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
}

// startQueue starts a queue of the workers with opts (polling every 100
// ms), stopped when the test ends.
func startQueue(t *testing.T, db *postgres.DB, register func(*river.Workers), opts postgres.QueueOptions) *postgres.Queue {
	t.Helper()
	ctx := context.Background()
	opts.Workers = river.NewWorkers()
	register(opts.Workers)
	opts.PollInterval = 100 * time.Millisecond
	q, err := postgres.NewQueue(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}
