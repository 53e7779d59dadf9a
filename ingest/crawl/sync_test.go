package crawl_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// failingIngester fails every ingest, after the crawl succeeded.
type failingIngester struct{}

func (failingIngester) Ingest(context.Context, ingest.Request) (ingest.Result, error) {
	return ingest.Result{}, errors.New("disk full")
}

func syncEnv(t *testing.T, s *site, prefix string) (*postgres.DB, *crawl.Syncer, parley.Workspace, parley.KnowledgeBase) {
	t.Helper()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(context.Background(), ws.ID, "site")
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(crawl.Settings{Delay: "0s", Prefix: prefix})
	if _, err := db.SetOrigin(context.Background(), parley.Origin{KBID: kb.ID, WorkspaceID: ws.ID, URL: s.srv.URL + "/help/", Settings: settings}); err != nil {
		t.Fatal(err)
	}
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	pipeline := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
	return db, crawl.NewSyncer(testCrawler(true), db, knowledge.New(db, pipeline, nil, retrieval.LocalModel, nil)), ws, kb
}

// A sync writes the site, a second one with nothing changed keeps every
// page, a changed page is updated and a removed one pruned, from this
// knowledge base only; a failed sync writes nothing.
func TestSync(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.set("/help/slow", "")
	db, syncer, ws, kb := syncEnv(t, s, "")
	ctx := context.Background()

	// Another knowledge base holds a source the syncs must not touch.
	other, _, _ := db.EnsureKB(ctx, ws.ID, "other")
	tok, _ := llm.NewTokenizer()
	pipeline := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
	if _, err := pipeline.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: other.ID, Docs: []ingest.Document{{ExternalID: "keep-me", Kind: ingest.KindFAQ, Question: "q?", Answer: "a"}}}); err != nil {
		t.Fatal(err)
	}

	first, err := syncer.Sync(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if first.Added != 5 || first.Pruned != 0 {
		t.Errorf("first sync: %+v", first.Result)
	}
	second, err := syncer.Sync(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if second.Unchanged != 5 || second.Added+second.Updated+second.Pruned != 0 || second.Fetched != 0 || second.NotModified != 5 {
		t.Errorf("unchanged sync: %+v fetched %d not modified %d", second.Result, second.Fetched, second.NotModified)
	}

	s.set("/help/shipping", page("Shipping", "Delivery to Germany now takes one business day.", "/help/"))
	s.set("/help/returns", "")
	third, err := syncer.Sync(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatalf("third sync: %v", err)
	}
	if third.Updated != 1 || third.Pruned != 1 || third.Unchanged != 3 {
		t.Errorf("after a change and a removal: %+v", third.Result)
	}
	hashes, _ := db.SourceHashes(ctx, ws.ID, other.ID)
	if _, ok := hashes["keep-me"]; !ok {
		t.Errorf("the other knowledge base lost its source")
	}

	// A sync whose ingest fails writes nothing and keeps the last pages.
	before, _ := db.SourceHashes(ctx, ws.ID, kb.ID)
	s.set("/help/shipping", page("Shipping", "Changed again.", "/help/"))
	failing := crawl.NewSyncer(testCrawler(true), db, failingIngester{})
	if _, err := failing.Sync(ctx, ws.ID, kb.ID); err == nil {
		t.Fatal("a failing ingest did not fail the sync")
	}
	after, _ := db.SourceHashes(ctx, ws.ID, kb.ID)
	if len(after) != len(before) {
		t.Errorf("a failed sync changed the sources: %d before, %d after", len(before), len(after))
	}
	o, err := db.Origin(ctx, ws.ID, kb.ID)
	if err != nil || o.SyncState != parley.JobFailed || !strings.Contains(o.SyncError, "nothing was written") {
		t.Errorf("origin after a failed sync: state %q error %q (%v)", o.SyncState, o.SyncError, err)
	}

	// A site that is down fails the sync and prunes nothing.
	s.srv.Close()
	if _, err := syncer.Sync(ctx, ws.ID, kb.ID); err == nil {
		t.Fatal("a sync of a site that is down succeeded")
	}
	if after, _ := db.SourceHashes(ctx, ws.ID, kb.ID); len(after) != len(before) {
		t.Errorf("a failed sync pruned: %d before, %d after", len(before), len(after))
	}
}
