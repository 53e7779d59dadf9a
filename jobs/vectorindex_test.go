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
	db, _ := pgtest.FreshDBURL(t, 4)
	ws, _, err := db.EnsureWorkspace(ctx, "grows")
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
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	embedder := retrieval.NewLocal()
	svc := knowledge.New(db, ingest.NewPipeline(db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{})), nil, retrieval.LocalModel, log)
	w := jobs.NewVectorIndex(db, log)
	workers := river.NewWorkers()
	w.Register(workers)
	q, err := postgres.NewQueue(ctx, db, postgres.QueueOptions{Workers: workers, PollInterval: 100 * time.Millisecond, Logger: log})
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
