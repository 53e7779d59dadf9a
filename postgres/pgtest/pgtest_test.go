package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// A fresh database is migrated, holds nothing of the package's shared one,
// and is dropped when its test ends.
func TestFreshDB(t *testing.T) {
	ctx := context.Background()
	ws := pgtest.Workspace(t)
	var schema string
	t.Run("fresh", func(t *testing.T) {
		db := pgtest.FreshDB(t, 1)
		if err := db.Pool().QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		current, err := migrations.Current(ctx, db.Pool())
		if latest, _ := migrations.Latest(); err != nil || current != latest {
			t.Errorf("schema %s at version %d (%v), want %d", schema, current, err, latest)
		}
		if _, err := db.Workspace(ctx, ws.ID); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("the shared schema's workspace in the fresh one: %v, want not found", err)
		}
	})
	var exists bool
	err := pgtest.DB(t).Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists)
	if err != nil || exists {
		t.Fatalf("schema %q exists after its test: %v (%v)", schema, exists, err)
	}
}

// Schemas left by killed runs are dropped once they are older than an
// hour; younger ones, which may belong to tests still running, are kept.
func TestSweepDropsStaleSchemas(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.DB(t).Pool()
	old := fmt.Sprintf("t_sweep_%d_0123abcd", time.Now().Add(-2*time.Hour).Unix())
	young := fmt.Sprintf("t_sweep_%d_0123abcd", time.Now().Unix())
	for _, s := range []string{old, young} {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA "+s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+young) })
	if _, err := pgtest.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{old: false, young: true} {
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, s).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists != want {
			t.Errorf("schema %s exists %v after the sweep, want %v", s, exists, want)
		}
	}
}
