package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// A workspace growing through small loads gets an index of its own built
// in the background once it has more than 2,000 vectors: searches and
// ingests go on while the build runs (held up here by a transaction left
// open, which a concurrent build waits for), the workspace's searches then
// go through its index and find what exact search finds, and a build cut
// short leaves an invalid index that the next one replaces.
func TestSmallLoadsGetTheirOwnIndexInTheBackground(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.FreshDBURL(t, 6)
	if err := db.EnsureVectorIndex(ctx, testModel, 4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 25))
	a, other := newTestSpace(t, db, "grows"), newTestSpace(t, db, "other")
	others := randomEntries(rng, "other", 2600)
	writeEntries(t, db, other, others)

	need := func(s space) bool {
		t.Helper()
		n, err := db.NeedsVectorIndex(ctx, s.ws, testModel)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var all []parley.SourceChunks
	for i := range 4 {
		batch := randomEntries(rng, fmt.Sprintf("load%d", i), 600)
		writeEntries(t, db, a, batch)
		all = append(all, batch...)
		if got, want := need(a), i == 3; got != want {
			t.Fatalf("after %d chunks: needs an index %v, want %v", len(all), got, want)
		}
	}
	query := func(sql string, args ...any) (n int) {
		t.Helper()
		if err := db.Pool().QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	indexes := func(valid bool) int {
		return query(`SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = 'chunks'::regclass AND i.relname LIKE 'chunks\_hnsw\_ws\_%' AND x.indisvalid = $1`, valid)
	}
	// first checks that the vector search of s puts e first.
	first := func(s space, e parley.SourceChunks) {
		t.Helper()
		hits, err := db.VectorSearch(ctx, parley.SearchQuery{WorkspaceID: s.ws, Model: testModel, Vector: e.Chunks[0].Embedding, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 10 || hits[0].ExternalID != e.ExternalID {
			t.Fatalf("search for %s: %d hits, first %+v", e.ExternalID, len(hits), hits[:min(1, len(hits))])
		}
	}
	// holdWriters opens a transaction that writes to chunks, which a
	// concurrent index build waits for; release ends it.
	holdWriters := func() (release func()) {
		t.Helper()
		tx, err := db.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE chunks IN ROW EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		return func() { _ = tx.Rollback(ctx) }
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	release := holdWriters()
	type result struct {
		n   int
		err error
	}
	built := make(chan result, 1)
	go func() {
		n, err := db.BuildVectorIndex(ctx, a.ws, testModel)
		built <- result{n, err}
	}()
	waitFor("the build to start", func() bool { return indexes(false) == 1 })
	// Meanwhile the workspace answers (exactly) and takes an ingest.
	for _, i := range []int{0, 700, 1500, 2399} {
		first(a, all[i])
	}
	during := randomEntries(rng, "during", 50)
	writeEntries(t, db, a, during)
	all = append(all, during...)
	first(a, during[7])
	first(other, others[11])
	if !need(a) {
		t.Fatal("needs no index while its build runs")
	}
	release()
	res := <-built
	if want := len(all) - len(during); res.err != nil || res.n != want { // counted as it began
		t.Fatalf("build: %d vectors, err %v; want %d", res.n, res.err, want)
	}
	if need(a) || indexes(true) != 1 || indexes(false) != 0 {
		t.Fatalf("after the build: needs an index %v, %d valid and %d invalid workspace indexes", need(a), indexes(true), indexes(false))
	}
	generation := query(`SELECT generation FROM vector_indexes WHERE workspace_id = $1`, a.ws)
	if n := query(`SELECT count(*) FROM chunks WHERE workspace_id = $1 AND vector_index = $2`, a.ws, generation); n != len(all) {
		t.Fatalf("%d of the workspace's %d chunks in its index's generation", n, len(all))
	}
	var plan []string
	err := pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(`EXPLAIN SELECT id FROM chunks c WHERE c.embed_model = '%s' AND c.vector_index = %d AND c.workspace_id = $1
			ORDER BY c.embedding::public.vector(4) <=> $2::public.vector(4) LIMIT 10`, testModel, generation),
			a.ws, pgvector.NewVector(all[0].Chunks[0].Embedding))
		if err == nil {
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("chunks_hnsw_ws_%d", generation); !strings.Contains(strings.Join(plan, "\n"), want) {
		t.Fatalf("the workspace's search does not use %s:\n%s", want, strings.Join(plan, "\n"))
	}

	// Through the index, searches find what exact search finds.
	fresh, err := postgres.Open(ctx, url, 2) // no cached statistics
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var same, top1 int
	const queries, k = 50, 10
	for i := range queries {
		q := randomEntries(rng, "query", 1)[0].Chunks[0].Embedding
		hits, err := fresh.VectorSearch(ctx, parley.SearchQuery{WorkspaceID: a.ws, Model: testModel, Vector: q, Limit: k})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Pool().Query(ctx, `SELECT id FROM chunks WHERE workspace_id = $1 AND embed_model = $2
			ORDER BY embedding <=> $3 LIMIT $4`, a.ws, testModel, pgvector.NewVector(q), k)
		if err != nil {
			t.Fatal(err)
		}
		exact, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != k {
			t.Fatalf("query %d: %d hits", i, len(hits))
		}
		if hits[0].ChunkID == exact[0] {
			top1++
		}
		for _, h := range hits {
			for _, id := range exact {
				if h.ChunkID == id {
					same++
				}
			}
		}
	}
	if recall := float64(same) / (queries * k); top1 != queries || recall < 0.95 {
		t.Fatalf("through the workspace's index: top hit exact in %d of %d queries, recall@%d %.3f", top1, queries, k, recall)
	}

	// A build cut short (here cancelled) leaves an invalid index; searches
	// stay exact, and the next build replaces it.
	release = holdWriters()
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		n, err := db.BuildVectorIndex(cctx, other.ws, testModel)
		built <- result{n, err}
	}()
	waitFor("the second build to start", func() bool { return indexes(false) == 1 })
	cancel()
	if res := <-built; res.err == nil {
		t.Fatal("cancelled build: no error")
	}
	release()
	if !need(other) || indexes(false) != 1 {
		t.Fatalf("after a cancelled build: needs an index %v, %d invalid workspace indexes", need(other), indexes(false))
	}
	first(other, others[5])
	if n, err := db.BuildVectorIndex(ctx, other.ws, testModel); err != nil || n != len(others) {
		t.Fatalf("build after the cancelled one: %d vectors, err %v", n, err)
	}
	if need(other) || indexes(true) != 2 || indexes(false) != 0 {
		t.Fatalf("after the second build: needs an index %v, %d valid and %d invalid workspace indexes", need(other), indexes(true), indexes(false))
	}
	first(other, others[5])
}
