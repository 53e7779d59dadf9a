package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// TestIngestRefreshesPlannerStatistics checks that a bulk ingest leaves the
// full-text index merged and the planner with statistics of the knowledge
// tables, so searches are planned for the rows just loaded even where
// autovacuum is off or late, and that a small ingest does not pay for it.
func TestIngestRefreshesPlannerStatistics(t *testing.T) {
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	const n = 400
	entries := make([]faqEntry, n)
	for i := range entries {
		entries[i] = faqEntry{id: fmt.Sprintf("q%d", i), intent: fmt.Sprintf("intent%d", i%7), answer: "a", vec: []float32{1, float32(i), 0, 0}}
	}
	before := analyzeCount(t, db)
	writeFAQ(t, db, ws.ID, "bulk", entries...)
	if got := analyzeCount(t, db); got <= before {
		t.Fatalf("chunks analyzed %d times before a bulk ingest of %d entries and %d after: want more", before, n, got)
	}
	var pending int64 // pages still in the full-text index's pending list
	if err := db.Pool().QueryRow(context.Background(), `SELECT gin_clean_pending_list('chunks_tsv'::regclass)`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Fatalf("after a bulk ingest the full-text index had %d pending pages; want them merged", pending)
	}
	var sources, chunks float64
	err := db.Pool().QueryRow(context.Background(), `SELECT
		(SELECT reltuples FROM pg_class WHERE oid = 'sources'::regclass),
		(SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass)`).Scan(&sources, &chunks)
	if err != nil {
		t.Fatal(err)
	}
	if sources < n || chunks < n {
		t.Fatalf("planner row estimates after ingesting %d entries: sources %.0f, chunks %.0f; want at least %d", n, sources, chunks, n)
	}

	before = analyzeCount(t, db)
	writeFAQ(t, db, ws.ID, "small", faqEntry{id: "x", answer: "a", vec: []float32{0, 1, 0, 0}})
	if got := analyzeCount(t, db); got != before {
		t.Fatalf("an ingest of 1 entry into %d analyzed the tables (count %d → %d)", n, before, got)
	}
}

func analyzeCount(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	var n int64
	err := db.Pool().QueryRow(context.Background(),
		`SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'chunks'::regclass`).Scan(&n)
	if err != nil {
		t.Fatalf("read analyze count: %v", err)
	}
	return n
}
