package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// A large load builds an HNSW index of its workspace's vectors in its
// transaction: a failed one (while writing, or in the build) leaves no row
// and no index behind; while one runs, searches of its workspace see the
// knowledge as it was and other workspaces' searches work; after it, both
// workspaces' searches find their vectors, a second large load replaces
// the index (the first is dropped), and a small load goes into it; the
// index of a deleted workspace is dropped by the next large load.
func TestLargeLoadBuildsItsWorkspaceIndex(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.FreshDBURL(t, 4)
	if err := db.EnsureVectorIndex(ctx, testModel, 4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 20))
	entries := func(prefix string, n int) []parley.SourceChunks { return randomEntries(rng, prefix, n) }
	newSpace := func(name string) space { return newTestSpace(t, db, name) }
	write := func(s space, batch []parley.SourceChunks) { t.Helper(); writeEntries(t, db, s, batch) }
	// found checks that the vector search of s puts e first (or, with
	// want false, does not find it at all).
	found := func(s space, e parley.SourceChunks, want bool) {
		t.Helper()
		hits, err := db.Search(ctx, parley.SearchQuery{WorkspaceID: s.ws, Model: testModel, Vector: e.Chunks[0].Embedding,
			Text: "nothing", Languages: []string{"en"}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var vector []parley.Hit
		for _, h := range hits {
			if h.VectorRank > 0 {
				vector = append(vector, h)
			}
		}
		switch {
		case len(vector) != 10:
			t.Fatalf("search for %s: %d vector hits, want 10", e.ExternalID, len(vector))
		case want && (vector[0].ExternalID != e.ExternalID || vector[0].Similarity < 0.9999):
			t.Fatalf("search for %s: first hit %s (similarity %.4f)", e.ExternalID, vector[0].ExternalID, vector[0].Similarity)
		case !want && vector[0].Similarity > 0.9999:
			t.Fatalf("search for %s, not yet written, found %s", e.ExternalID, vector[0].ExternalID)
		}
	}
	query := func(sql string, args ...any) (n int) {
		t.Helper()
		if err := db.Pool().QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	workspaceIndexes := func() int {
		return query(`SELECT count(*) FROM pg_indexes WHERE tablename = 'chunks' AND schemaname = current_schema() AND indexname LIKE 'chunks\_hnsw\_ws\_%'`)
	}
	generation := func(s space) int {
		return query(`SELECT coalesce((SELECT generation FROM vector_indexes WHERE workspace_id = $1), 0)`, s.ws)
	}

	a, b := newSpace("large"), newSpace("other")
	small, others := entries("small", 100), entries("other", 2500) // others: over the exact-search limit
	write(a, small)
	write(b, others)

	large := entries("large", 5000)
	stop := errors.New("stopped after writing")
	err := db.Ingest(ctx, target(a, large), func(w parley.SourceWriter) error {
		if err := w.Write(ctx, large); err != nil {
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("failed load: err = %v", err)
	}
	badDims := target(a, large)
	badDims.Dims = 3 // the build fails: the vectors have 4
	err = db.Ingest(ctx, badDims, func(w parley.SourceWriter) error { return w.Write(ctx, large) })
	if err == nil || !strings.Contains(err.Error(), "build the workspace's vector index") {
		t.Fatalf("load failing in the build: err = %v", err)
	}
	if n := query(`SELECT count(*) FROM chunks WHERE workspace_id = $1`, a.ws); n != len(small) {
		t.Fatalf("after failed loads the workspace has %d chunks, want %d", n, len(small))
	}
	if g, n := generation(a), workspaceIndexes(); g != 0 || n != 0 {
		t.Fatalf("after failed loads: generation %d, %d workspace indexes; want none", g, n)
	}

	// A load that waits after writing: searches meanwhile see the old state.
	written, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Ingest(ctx, target(a, large), func(w parley.SourceWriter) error {
			err := w.Write(ctx, large)
			close(written)
			<-resume
			return err
		})
	}()
	<-written
	found(a, small[7], true)
	found(a, large[7], false)
	found(b, others[7], true)
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first := generation(a)
	if first == 0 || workspaceIndexes() != 1 {
		t.Fatalf("after the large load: generation %d, %d workspace indexes; want one", first, workspaceIndexes())
	}
	if n := query(`SELECT count(*) FROM chunks WHERE workspace_id = $1 AND vector_index = $2`, a.ws, first); n != len(small)+len(large) {
		t.Fatalf("%d of the workspace's chunks in its index, want %d", n, len(small)+len(large))
	}
	if n := query(`SELECT count(*) FROM chunks WHERE workspace_id = $1 AND vector_index = 0`, b.ws); n != len(others) {
		t.Fatalf("%d of the other workspace's chunks in the shared index, want %d", n, len(others))
	}
	found(a, large[7], true) // the cached statistics still say 100 chunks, exact search
	found(a, small[7], true)
	found(b, others[7], true)

	again := entries("large", 5000) // the same ids, new vectors: replaced
	write(a, again)
	second := generation(a)
	if second <= first || workspaceIndexes() != 1 {
		t.Fatalf("after the second large load: generation %d (first %d), %d workspace indexes; want one", second, first, workspaceIndexes())
	}
	found(a, again[7], true) // the cached generation is the first's
	found(a, small[7], true)
	found(b, others[7], true)

	late := entries("late", 10)
	write(a, late)
	if n := query(`SELECT count(*) FROM chunks WHERE workspace_id = $1 AND vector_index = $2`, a.ws, second); n != len(small)+len(again)+len(late) {
		t.Fatalf("%d of the workspace's chunks in its index, want %d", n, len(small)+len(again)+len(late))
	}
	found(a, late[3], true)

	// A fresh process (no cached statistics) plans the same searches.
	fresh, err := postgres.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	db = fresh
	found(a, again[9], true)
	found(b, others[9], true)

	// A deleted workspace's index is dropped by the next large load.
	if _, err := db.Pool().Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, a.ws); err != nil {
		t.Fatal(err)
	}
	more := entries("more", 5000)
	write(b, more)
	if g, n := generation(b), workspaceIndexes(); g == 0 || n != 1 {
		t.Fatalf("after a large load into the other workspace with the first deleted: generation %d, %d workspace indexes; want its one", g, n)
	}
	found(b, more[5], true)
	found(b, others[5], true)
}

// randomEntries returns n FAQ entries named prefix-i, of one chunk each,
// with random unit vectors of 4 dimensions.
func randomEntries(rng *rand.Rand, prefix string, n int) []parley.SourceChunks {
	out := make([]parley.SourceChunks, n)
	for i := range out {
		v := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
		norm := float32(math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2] + v[3]*v[3])))
		for j := range v {
			v[j] /= norm
		}
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = parley.SourceChunks{
			Source: parley.Source{Kind: "faq", ExternalID: id, ContentHash: id},
			Chunks: []parley.Chunk{{Text: "question " + id, Answer: "answer " + id, Embedding: v}},
		}
	}
	return out
}

// space is a workspace with one knowledge base.
type space struct{ ws, kb string }

func newTestSpace(t *testing.T, db *postgres.DB, name string) space {
	t.Helper()
	ctx := context.Background()
	ws, _, err := db.EnsureWorkspace(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, "kb")
	if err != nil {
		t.Fatal(err)
	}
	return space{ws.ID, kb.ID}
}

func target(s space, batch []parley.SourceChunks) parley.IngestTarget {
	return parley.IngestTarget{WorkspaceID: s.ws, KBID: s.kb, Model: testModel, Dims: 4, Chunks: len(batch)}
}

// writeEntries ingests batch into s in one load.
func writeEntries(t *testing.T, db *postgres.DB, s space, batch []parley.SourceChunks) {
	t.Helper()
	ctx := context.Background()
	if err := db.Ingest(ctx, target(s, batch), func(w parley.SourceWriter) error { return w.Write(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
}
