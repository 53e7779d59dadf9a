package postgres_test

import (
	"context"
	"fmt"
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
