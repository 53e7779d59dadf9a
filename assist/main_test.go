package assist_test

import (
	"context"
	"os"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// ingestFile loads a knowledge file into the workspace's knowledge base
// "faq" through the real pipeline (local embedder) and returns the base.
func ingestFile(t *testing.T, db *postgres.DB, workspaceID, path string) parley.KnowledgeBase {
	t.Helper()
	ctx := context.Background()
	kb, _, err := db.EnsureKB(ctx, workspaceID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err := ingest.LoadPath(ctx, path, ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: workspaceID, KBID: kb.ID, Docs: docs}); err != nil {
		t.Fatal(err)
	}
	return kb
}
