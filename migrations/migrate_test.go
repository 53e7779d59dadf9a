package migrations_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestAllOrdered(t *testing.T) {
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i := 1; i < len(all); i++ {
		if all[i].Version <= all[i-1].Version {
			t.Errorf("migration %d after %d: not in order", all[i].Version, all[i-1].Version)
		}
	}
}

// The harness has already migrated the schema: applying again, from several
// processes at once, must do nothing and fail nowhere.
func TestApplyConcurrentIsIdempotent(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	applied := make([][]int, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = migrations.Apply(ctx, db.Pool(), log)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		if len(applied[i]) != 0 {
			t.Errorf("apply %d applied %v on a migrated schema", i, applied[i])
		}
	}
	latest, _ := migrations.Latest()
	current, err := migrations.Current(ctx, pgtest.DB(t).Pool())
	if err != nil {
		t.Fatal(err)
	}
	if current != latest {
		t.Errorf("current version %d, want %d", current, latest)
	}
}

// Every message updates its conversation's updated_at (and an escalation or
// a resolution its status): with neither column in an index, those updates
// can be HOT and write no index entries.
func TestConversationUpdatesTouchNoIndex(t *testing.T) {
	rows, err := pgtest.DB(t).Pool().Query(context.Background(), `SELECT i.indexrelid::regclass::text
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = 'conversations'::regclass AND a.attname IN ('updated_at', 'status')`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Errorf("indexes %v cover columns every message updates", names)
	}
}

// River's tables are created in the schema being migrated even when a
// schema later on the search_path has them already (as public may):
// otherwise two schemas would share one job queue.
func TestRiverTablesInTheirOwnSchema(t *testing.T) {
	ctx := context.Background()
	migrated, u := pgtest.FreshDBURL(t, 2) // has River's tables
	var first string
	if err := migrated.Pool().QueryRow(ctx, `SELECT current_schema()`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	second := first + "_b"
	if _, err := migrated.Pool().Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{second}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = migrated.Pool().Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{second}.Sanitize()+" CASCADE")
	})
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	q.Set("search_path", second+","+first+",public")
	parsed.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, parsed.String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrations.Apply(ctx, db.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = $1 AND table_name IN ('river_job', 'river_migration', 'river_leader')`, second).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 3 {
		t.Fatalf("%d of River's tables in the migrated schema, want 3", tables)
	}
	if err := migrations.RiverCurrent(ctx, db.Pool()); err != nil {
		t.Fatal(err)
	}
}

// A database whose newest migration is applied but which lacks an older
// one (two branches landed in the other order) is not current: Missing
// names the gap.
func TestMissingFindsAGapBelowTheNewest(t *testing.T) {
	ctx := context.Background()
	db := pgtest.FreshDB(t, 2)
	missing, err := migrations.Missing(ctx, db.Pool())
	if err != nil || len(missing) != 0 {
		t.Fatalf("migrated schema: missing %v, %v; want none", missing, err)
	}
	all, _ := migrations.All()
	gap := all[len(all)/2].Version
	if _, err := db.Pool().Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, gap); err != nil {
		t.Fatal(err)
	}
	missing, err = migrations.Missing(ctx, db.Pool())
	if err != nil || len(missing) != 1 || missing[0] != gap {
		t.Fatalf("with %d unrecorded: missing %v, %v; want [%d]", gap, missing, err, gap)
	}
	if _, err := db.Pool().Exec(ctx, `DROP TABLE schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if missing, err = migrations.Missing(ctx, db.Pool()); err != nil || len(missing) != len(all) {
		t.Fatalf("never migrated: %d missing, %v; want all %d", len(missing), err, len(all))
	}
}
