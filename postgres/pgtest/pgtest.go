// Package pgtest gives tests a real, migrated PostgreSQL schema.
//
// Each test binary (one per package) gets its own schema, created and
// migrated on first use and dropped when the tests end; each test gets its
// own workspace, so tests never see each other's rows and may run in
// parallel. (A test that needs empty tables and indexes gets a schema of
// its own from FreshDB.) Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// The database comes from PARLEY_TEST_DATABASE_URL (make test sets it). When
// it cannot be reached the tests fail with a message saying so; only under
// -short are they skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres"
)

// DefaultURL is used when PARLEY_TEST_DATABASE_URL is not set; it is what
// scripts/db-setup.sh creates.
const DefaultURL = "postgres://parley:parley@127.0.0.1:5432/parley_test?sslmode=disable"

var shared struct {
	once   sync.Once
	db     *postgres.DB
	url    string // with the schema on its search_path
	schema string
	err    error
}

// Run runs the tests and drops the schema they used.
func Run(m *testing.M) int {
	code := m.Run()
	if shared.db != nil {
		shared.db.Close()
		if err := dropSchema(shared.schema); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop schema %s: %v\n", shared.schema, err)
		}
	}
	return code
}

// DB returns the package's migrated database.
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	skipShort(t)
	shared.once.Do(setup)
	if shared.err != nil {
		fail(t, shared.err)
	}
	return shared.db
}

// FreshDB returns a store with a pool of maxConns connections on a newly
// created and migrated schema of its own, dropped when the test ends: for
// tests that need empty tables and indexes, not a workspace of the shared
// schema (a benchmark's first load).
func FreshDB(t testing.TB, maxConns int32) *postgres.DB {
	t.Helper()
	db, _ := FreshDBURL(t, maxConns)
	return db
}

// FreshDBURL is FreshDB that also returns the schema's URL, for code
// under test that opens its own pool: servers whose background jobs must
// not meet other tests' on a shared queue.
func FreshDBURL(t testing.TB, maxConns int32) (*postgres.DB, string) {
	t.Helper()
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := schemaName()
	db, u, err := openSchema(ctx, schema, maxConns)
	if err != nil {
		fail(t, err)
	}
	t.Cleanup(func() {
		db.Close()
		if err := dropSchema(schema); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return db, u
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping database test in -short mode")
	}
}

func fail(t testing.TB, err error) {
	t.Helper()
	t.Fatalf("test database: %v\n(start it with `make test` or scripts/db-setup.sh, or set PARLEY_TEST_DATABASE_URL)", err)
}

// URL returns a connection URL for the package's schema, for code under test
// that opens its own pool (the CLI, the server).
func URL(t testing.TB) string {
	t.Helper()
	DB(t)
	return shared.url
}

// Workspace creates a workspace unique to this test and returns it.
func Workspace(t testing.TB) parley.Workspace {
	t.Helper()
	db := DB(t)
	name := strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), "-"))
	name = strings.Trim(name, "-")
	if len(name) > 40 {
		name = name[:40]
	}
	ws, _, err := db.EnsureWorkspace(context.Background(), name+"-"+randomHex(4))
	if err != nil {
		t.Fatalf("create test workspace: %v", err)
	}
	return ws
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if n, err := sweep(ctx, time.Now().Add(-staleAfter)); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: sweep schemas left by killed runs: %v\n", err)
	} else if n > 0 {
		fmt.Fprintf(os.Stderr, "pgtest: dropped %d schemas left by killed runs\n", n)
	}
	shared.schema = schemaName()
	shared.db, shared.url, shared.err = openSchema(ctx, shared.schema, 8)
}

// schemaName names a new schema after the test binary (its package) and
// the time it is made: t_PKG_UNIXSECONDS_RANDOM.
func schemaName() string {
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	return fmt.Sprintf("t_%s_%d_%s", regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(pkg), "_"), time.Now().Unix(), randomHex(4))
}

// staleAfter is the age at which a test schema is taken to be left behind
// by a run that was killed (Run drops a schema when its tests end; no test
// binary runs for an hour).
const staleAfter = time.Hour

// testSchema matches the names schemaName makes; its group is the time.
var testSchema = regexp.MustCompile(`^t_[a-z0-9_]+_([0-9]{10})_[0-9a-f]{8}$`)

// sweep drops the test schemas made before cutoff and returns how many.
func sweep(ctx context.Context, cutoff time.Time) (int, error) {
	conn, err := pgx.Connect(ctx, baseURL())
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\_%'`)
	if err != nil {
		return 0, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, name := range names {
		m := testSchema.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		made, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || !time.Unix(made, 0).Before(cutoff) {
			continue
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			return dropped, fmt.Errorf("drop schema %s: %w", name, err)
		}
		dropped++
	}
	return dropped, nil
}

// openSchema creates schema, opens a pool of maxConns connections with it
// first on the search_path, and migrates it; it returns the store and its
// URL. On failure nothing is left behind.
func openSchema(ctx context.Context, schema string, maxConns int32) (*postgres.DB, string, error) {
	base := baseURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, "", fmt.Errorf("connect to %s: %w", redact(base), err)
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	conn.Close(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	db, u, err := migrate(ctx, base, schema, maxConns)
	if err != nil {
		if derr := dropSchema(schema); derr != nil {
			err = fmt.Errorf("%w (and drop schema %s: %v)", err, schema, derr)
		}
		return nil, "", err
	}
	return db, u, nil
}

// migrate opens a pool on the new schema and migrates it.
func migrate(ctx context.Context, base, schema string, maxConns int32) (*postgres.DB, string, error) {
	u, err := withSearchPath(base, schema)
	if err != nil {
		return nil, "", err
	}
	// A pool of one connection is enough: Apply takes what it needs.
	db, err := postgres.Open(ctx, u, maxConns)
	if err != nil {
		return nil, "", err
	}
	if _, err := migrations.Apply(ctx, db.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		db.Close()
		return nil, "", err
	}
	return db, u, nil
}

func withSearchPath(raw, schema string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse PARLEY_TEST_DATABASE_URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func dropSchema(schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

func baseURL() string {
	if u := os.Getenv("PARLEY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Listening runs a notifier on db until the test ends and returns it once
// it listens.
func Listening(t testing.TB, db *postgres.DB) *postgres.Notifier {
	t.Helper()
	n := db.NewNotifier(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-n.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("the notifier did not start listening")
	}
	return n
}
