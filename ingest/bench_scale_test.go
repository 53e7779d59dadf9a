package ingest_test

import (
	"context"
	"os"
	"testing"

	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/faqgen"
	"github.com/parleyhq/parley/retrieval"
)

// TestIngestScale measures the first load and the unchanged re-ingest of
// generated FAQ knowledge (internal/faqgen: question and answer, so two
// chunks an entry; 45 entries an intent) at each size in
// PARLEY_SCALE_ENTRIES (comma-separated, e.g. "10000,100000"), each into a
// fresh migrated schema with the model's (empty) HNSW index. Nothing is
// stored in the repository: the data is made here.
//
//	make bench-scale-ingest SIZES=10000,100000
func TestIngestScale(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_ENTRIES")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_ENTRIES to the sizes to load (make bench-scale-ingest does)")
	}
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	chunker := ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{})
	ns, err := faqgen.Sizes(sizes, 1)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_ENTRIES: %v", err)
	}
	for _, n := range ns {
		var docs []ingest.Document
		for _, e := range faqgen.Generate(n, 45, 1) {
			docs = append(docs, ingest.Document{ExternalID: e.ID, Kind: ingest.KindFAQ, Question: e.Question, Answer: e.Answer, Intent: e.Intent})
		}
		db := freshSchema(t, embedder)
		ws, kb := benchKB(t, db)
		pipe := ingest.NewPipeline(db, embedder, chunker)
		run := func() (ingest.Result, timing) {
			stop := startTiming(t, db)
			res, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs})
			if err != nil {
				t.Fatal(err)
			}
			return res, stop()
		}
		res, first := run()
		if res.Added != n {
			t.Fatalf("%d entries: %+v", n, res)
		}
		again, reload := run()
		if again.Unchanged != n || again.Embedded != 0 {
			t.Fatalf("%d entries again: %+v", n, again)
		}
		t.Logf("%d entries (%d chunks, %d intents): first load %s = %.0f entries/s; re-ingest unchanged %s (load average %s)",
			n, res.Chunks, (n+44)/45, first, float64(n)/first.wall.Seconds(), reload, loadAverage())
	}
}
