package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// A database at migration 0019, with knowledge and its model's shared
// vector index, upgrades without rebuilding the index in a migration's
// transaction; UpgradeVectorIndexes then rebuilds it concurrently (an
// ingest commits while it runs) with the predicate of migration 0020,
// under its name, and searches and large loads work before and after.
func TestUpgradeFrom0019RebuildsTheSharedIndexConcurrently(t *testing.T) {
	ctx := context.Background()
	migrated, u := pgtest.FreshDBURL(t, 2)
	var first string
	if err := migrated.Pool().QueryRow(ctx, `SELECT current_schema()`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	schema := first + "_0019"
	if _, err := migrated.Pool().Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = migrated.Pool().Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	q.Set("search_path", schema+",public")
	parsed.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, parsed.String(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	// The schema as migration 0019 left it, with the shared index as
	// EnsureVectorIndex created it then, and 3,000 chunks.
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	exec(`CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	for _, m := range all {
		if m.Version > 19 {
			break
		}
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	}
	index := postgres.VectorIndexName(testModel, 4)
	exec(`CREATE INDEX ` + index + ` ON chunks USING hnsw ((embedding::public.vector(4)) public.vector_cosine_ops)
		WITH (m = 12, ef_construction = 64) WHERE embed_model = '` + testModel + `'`)
	var ws, kb string
	if err := db.Pool().QueryRow(ctx, `INSERT INTO workspaces (name) VALUES ('old') RETURNING id`).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool().QueryRow(ctx, `INSERT INTO knowledge_bases (workspace_id, name) VALUES ($1, 'kb') RETURNING id`, ws).Scan(&kb); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO sources (workspace_id, kb_id, kind, external_id, content_hash, chunk_count)
		SELECT $1, $2, 'faq', 'old-' || i, 'h' || i, 1 FROM generate_series(1, 3000) i`, ws, kb)
	exec(`INSERT INTO chunks (workspace_id, source_id, ordinal, text, group_key, embed_model, embedding, tsv)
		SELECT workspace_id, id, 0, 'question ' || external_id, external_id, $1,
			ARRAY[random() - 0.5, random() - 0.5, random() - 0.5, random() - 0.5]::float4[]::public.vector, to_tsvector('simple', 'question')
		FROM sources`, testModel)
	exec(`ANALYZE chunks`)

	type state struct {
		oid       uint32
		predicate string
		valid     bool
	}
	read := func() state {
		t.Helper()
		var s state
		if err := db.Pool().QueryRow(ctx, `SELECT i.oid, pg_get_expr(x.indpred, x.indrelid), x.indisvalid
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = 'chunks'::regclass AND i.relname = $1`, index).Scan(&s.oid, &s.predicate, &s.valid); err != nil {
			t.Fatal(err)
		}
		return s
	}
	found := func(externalID string) {
		t.Helper()
		var v []float32
		if err := db.Pool().QueryRow(ctx, `SELECT c.embedding::float4[] FROM chunks c JOIN sources s ON s.id = c.source_id
			WHERE s.workspace_id = $1 AND s.external_id = $2`, ws, externalID).Scan(&v); err != nil {
			t.Fatal(err)
		}
		hits, err := db.VectorSearch(ctx, parley.SearchQuery{WorkspaceID: ws, Model: testModel, Vector: v, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 10 || hits[0].ExternalID != externalID {
			t.Fatalf("search for %s: %d hits, first %+v", externalID, len(hits), hits[:min(1, len(hits))])
		}
	}
	before := read()

	applied, err := migrations.Apply(ctx, db.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || applied[0] != 20 {
		t.Fatalf("applied %v, want 20 onwards", applied)
	}
	if after := read(); after != before || strings.Contains(after.predicate, "vector_index") {
		t.Fatalf("the migrations rebuilt the shared index: %+v, before %+v", after, before)
	}
	found("old-17")

	// The upgrade waits for a writer's transaction (it builds
	// concurrently); meanwhile an ingest commits.
	hold, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `LOCK TABLE chunks IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := db.UpgradeVectorIndexes(ctx)
		done <- result{n, err}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var building bool
		if err := db.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_class WHERE relname = $1 AND relnamespace = $2::regnamespace)`,
			index+"_next", schema).Scan(&building); err != nil {
			t.Fatal(err)
		}
		if building {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the rebuild to start")
		}
	}
	s, rng := space{ws, kb}, rand.New(rand.NewPCG(19, 20))
	writeEntries(t, db, s, randomEntries(rng, "during", 20))
	found("old-17")
	_ = hold.Rollback(ctx)
	if res := <-done; res.err != nil || res.n != 1 {
		t.Fatalf("upgrade: %d indexes rebuilt, err %v; want 1", res.n, res.err)
	}
	after := read()
	if after.oid == before.oid || !after.valid || !strings.Contains(after.predicate, "vector_index = 0") {
		t.Fatalf("after the upgrade: %+v", after)
	}
	var leftovers int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indrelid = 'chunks'::regclass AND i.relname LIKE 'chunks\_hnsw\_%'`).Scan(&leftovers); err != nil || leftovers != 1 {
		t.Fatalf("%d vector indexes after the upgrade (err %v), want 1", leftovers, err)
	}
	if n, err := db.UpgradeVectorIndexes(ctx); n != 0 || err != nil {
		t.Fatalf("second upgrade: %d indexes rebuilt, err %v", n, err)
	}
	found("old-17")
	if err := db.EnsureVectorIndex(ctx, testModel, 4); err != nil || read() != after {
		t.Fatalf("EnsureVectorIndex after the upgrade: err %v, index %+v (was %+v)", err, read(), after)
	}

	// A large load builds the workspace's own index.
	writeEntries(t, db, s, randomEntries(rng, "large", 5000))
	found("old-17")
	var generation int
	if err := db.Pool().QueryRow(ctx, `SELECT generation FROM vector_indexes WHERE workspace_id = $1`, ws).Scan(&generation); err != nil || generation == 0 {
		t.Fatalf("after a large load: generation %d, err %v", generation, err)
	}
}
