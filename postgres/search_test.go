package postgres_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// The vector search of a workspace over the exact-search limit goes through
// the HNSW index with settings of its own (generic plan, no sort, a smaller
// ef_search), sent with the statement; they must not outlive it on the
// connection, which the next statement of any kind reuses.
func TestSearchSettingsStayWithTheStatement(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	const n = 2001 // one over the exact-search limit
	entries := make([]faqEntry, n)
	for i := range entries {
		a := float64(i) / n * math.Pi / 2
		entries[i] = faqEntry{id: fmt.Sprintf("q%d", i), answer: "a", vec: []float32{float32(math.Cos(a)), float32(math.Sin(a)), 0, 0}}
	}
	writeFAQ(t, db, ws.ID, "kb", entries...)
	if err := db.EnsureVectorIndex(ctx, testModel, 4); err != nil {
		t.Fatal(err)
	}

	one, err := postgres.Open(ctx, pgtest.URL(t), 1) // one connection: the search's and the checks'
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	want := entries[1000]
	hits, err := one.Search(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: want.vec, Text: "question", Languages: []string{"en"}, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var vector []parley.Hit
	for _, h := range hits {
		if h.VectorRank > 0 {
			vector = append(vector, h)
		}
	}
	if len(vector) != 20 || vector[0].ExternalID != want.id || vector[0].Similarity < 0.9999 {
		t.Fatalf("%d vector hits, first %+v; want 20 with %s first", len(vector), vector[0], want.id)
	}
	for i := 1; i < len(vector); i++ {
		if vector[i].Similarity > vector[i-1].Similarity {
			t.Fatalf("vector hits out of order at %d: %.4f after %.4f", i, vector[i].Similarity, vector[i-1].Similarity)
		}
	}
	for setting, def := range map[string]string{"enable_sort": "on", "hnsw.ef_search": "40", "plan_cache_mode": "auto"} {
		var got string
		if err := one.Pool().QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != def {
			t.Errorf("after a search the connection has %s = %s, want the default %s", setting, got, def)
		}
	}
}

// The full-text leg matches any word of the question, read in each of its
// languages, and ranks rare words over common ones: a paraphrase sharing
// one distinctive word with its entry finds it, in English and in German.
func TestTextSearchFindsParaphrases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	k, _, err := db.EnsureKB(ctx, ws.ID, "kb")
	if err != nil {
		t.Fatal(err)
	}
	entries := []struct{ id, lang, text string }{
		{"delivery", "en", "How long does delivery of a bike take?"},
		{"battery", "en", "How should I store the battery of my bike?"},
		{"frame", "en", "Which frame size of bike do I need?"},
		{"ruecksendung", "de", "Wie schicke ich ein Fahrrad zurück?"},
		{"garantie", "de", "Welche Garantie haben die Fahrräder?"},
	}
	var batch []parley.SourceChunks
	for _, e := range entries {
		batch = append(batch, parley.SourceChunks{
			Source: parley.Source{Kind: "faq", ExternalID: e.id, Language: e.lang, ContentHash: e.id},
			Chunks: []parley.Chunk{{Text: e.text, Answer: "answer " + e.id, Embedding: []float32{1, 0, 0, 0}}},
		})
	}
	if err := db.Ingest(ctx, parley.IngestTarget{WorkspaceID: ws.ID, KBID: k.ID, Model: testModel, Dims: 4, Chunks: len(batch)}, func(w parley.SourceWriter) error { return w.Write(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text  string
		langs []string
		want  string
	}{
		// "bike" is in three entries, "batteries" (stemmed) in one.
		{"what is the best way to keep bike batteries over winter", []string{"en", "de"}, "battery"},
		{"my bike: when will its delivery arrive?", []string{"en"}, "delivery"},
		// Detected as English, but the workspace also serves German.
		{"Gibt es eine Garantie auf den Rahmen?", []string{"en", "de"}, "garantie"},
	}
	for _, tt := range tests {
		hits, err := db.Search(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{0, 0, 0, 1},
			Text: tt.text, Languages: tt.langs, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for _, h := range hits {
			if h.TextRank == 1 {
				first = h.ExternalID
			}
		}
		if first != tt.want {
			t.Errorf("%q: first full-text hit %q, want %q", tt.text, first, tt.want)
		}
	}
	// Stop words alone match nothing.
	hits, err := db.Search(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{0, 0, 0, 1},
		Text: "what is the", Languages: []string{"en"}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.TextRank > 0 {
			t.Errorf("stop words found %s", h.ExternalID)
		}
	}
}

// The keyword leg reads each word's number of chunks from chunk_words.
// Every write of chunks keeps it exact: an ingest adding, replacing and
// pruning entries, deleting a source and deleting a knowledge base; the
// search sees a new word's count at once, and a word deleted everywhere is
// no longer counted.
func TestWordCountsFollowTheChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	other := pgtest.Workspace(t) // the same words elsewhere must not count
	entry := func(id, text string) parley.SourceChunks {
		return parley.SourceChunks{
			Source: parley.Source{Kind: "faq", ExternalID: id, Language: "en", ContentHash: text},
			Chunks: []parley.Chunk{{Text: text, Answer: "answer " + id, Embedding: []float32{1, 0, 0, 0}}},
		}
	}
	ingest := func(wsID, kb string, prune bool, entries ...parley.SourceChunks) parley.KnowledgeBase {
		t.Helper()
		k, _, err := db.EnsureKB(ctx, wsID, kb)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Ingest(ctx, parley.IngestTarget{WorkspaceID: wsID, KBID: k.ID, Model: testModel, Dims: 4, Chunks: len(entries)}, func(w parley.SourceWriter) error {
			// One batch per entry, as a large ingest writes several.
			var keep []string
			for _, e := range entries {
				if err := w.Write(ctx, []parley.SourceChunks{e}); err != nil {
					return err
				}
				keep = append(keep, e.Source.ExternalID)
			}
			if prune {
				_, err := w.Prune(ctx, keep)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := func(text string) string {
		t.Helper()
		hits, err := db.TextSearch(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{0, 0, 0, 1},
			Text: text, Languages: []string{"en"}, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 {
			return ""
		}
		return hits[0].ExternalID
	}

	ingest(other.ID, "kb", false, entry("o1", "zebra quokka stripes"))
	a := ingest(ws.ID, "a", false, entry("zebra", "Zebra crossing rules"), entry("stripes", "Zebra stripes and paint"))
	ingest(ws.ID, "b", false, entry("paint", "Which paint for stripes?"))
	checkWordCounts(t, db, ws.ID, map[string]int{"zebra": 2, "cross": 1, "rule": 1, "stripe": 2, "paint": 2})
	if got := first("rules for crossing"); got != "zebra" {
		t.Errorf("rules for crossing: first hit %q, want zebra", got)
	}

	// Replace one entry (a new word comes, one goes) and prune the other.
	ingest(ws.ID, "a", true, entry("zebra", "Quokka crossing rules"))
	checkWordCounts(t, db, ws.ID, map[string]int{"quokka": 1, "cross": 1, "rule": 1, "stripe": 1, "paint": 1})
	if got := first("where do quokkas live"); got != "zebra" {
		t.Errorf("a word ingested a moment ago: first hit %q, want zebra", got)
	}
	if got := first("zebra"); got != "" {
		t.Errorf("a word no chunk has any more found %q", got)
	}

	if err := db.DeleteSource(ctx, ws.ID, a.ID, parley.SourceRef{ExternalID: "zebra"}); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, db, ws.ID, map[string]int{"stripe": 1, "paint": 1})
	if err := db.DeleteKB(ctx, ws.ID, "b"); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, db, ws.ID, map[string]int{})
	checkWordCounts(t, db, other.ID, map[string]int{"zebra": 1, "quokka": 1, "stripe": 1})
}

// Ingests into two knowledge bases of one workspace, at once, with the same
// words written in different orders, neither deadlock nor lose a count.
func TestConcurrentIngestsCountWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	words := []string{"alpha", "bravo", "golf", "delta", "echo", "foxtrot"}
	errs := make(chan error, 2)
	for i, kb := range []string{"one", "two"} {
		go func() {
			k, _, err := db.EnsureKB(ctx, ws.ID, kb)
			if err != nil {
				errs <- err
				return
			}
			for round := range 5 {
				err := db.Ingest(ctx, parley.IngestTarget{WorkspaceID: ws.ID, KBID: k.ID, Model: testModel, Dims: 4, Chunks: len(words)}, func(w parley.SourceWriter) error {
					for j := range words {
						word := words[(j*(1+4*i)+round)%len(words)] // another order in each knowledge base and round
						e := parley.SourceChunks{
							Source: parley.Source{Kind: "faq", ExternalID: word, Language: "en", ContentHash: fmt.Sprint(round)},
							Chunks: []parley.Chunk{{Text: word + " " + kb, Answer: "a", Embedding: []float32{1, 0, 0, 0}}},
						}
						if err := w.Write(ctx, []parley.SourceChunks{e}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"one": 6, "two": 6}
	for _, w := range words {
		want[w] = 2
	}
	checkWordCounts(t, db, ws.ID, want)
}

// checkWordCounts checks a workspace's chunk_words against want and
// against a count of its chunks' words.
func checkWordCounts(t *testing.T, db *postgres.DB, workspaceID string, want map[string]int) {
	t.Helper()
	ctx := context.Background()
	read := func(sql string) map[string]int {
		rows, err := db.Pool().Query(ctx, sql, workspaceID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var w string
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				t.Fatal(err)
			}
			got[w] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	stored := read(`SELECT embed_model || ' ' || word, chunks FROM chunk_words WHERE workspace_id = $1`)
	counted := read(`SELECT c.embed_model || ' ' || w.word, count(*) FROM chunks c, unnest(tsvector_to_array(c.tsv)) w(word)
		WHERE c.workspace_id = $1 GROUP BY 1`)
	wanted := map[string]int{}
	for w, n := range want {
		wanted[testModel+" "+w] = n
	}
	if !maps.Equal(stored, counted) || !maps.Equal(stored, wanted) {
		t.Errorf("word counts: stored %v, counted from the chunks %v, want %v", stored, counted, wanted)
	}
}

// hnsw.ef_search grows with the workspace's vectors past 50,000, so that
// recall@10 holds at 0.95 where it was measured (BENCHMARKS.md, "Recall at
// size": ef_search 20 gave 0.959 at 100,000 vectors and 0.876 at 300,000,
// 120 gave 0.960 there), within a bound.
func TestEfSearchGrowsWithTheIndex(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, least, most int }{
		{2001, 20, 20}, {50_000, 20, 20}, {100_000, 20, 40}, {300_000, 120, 120}, {10_000_000, 120, 400},
	} {
		if got := postgres.EfSearch(c.n); got < c.least || got > c.most {
			t.Errorf("ef_search for %d vectors: %d, want %d to %d", c.n, got, c.least, c.most)
		}
	}
}
