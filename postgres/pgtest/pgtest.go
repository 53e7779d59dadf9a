// Package pgtest gives tests a real, migrated PostgreSQL schema.
//
// Each test binary (one per package) gets its own schema, created and
// migrated on first use and dropped when the tests end; each test gets its
// own workspace, so tests never see each other's rows and may run in
// parallel. Use it from TestMain:
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
	if testing.Short() {
		t.Skip("skipping database test in -short mode")
	}
	shared.once.Do(setup)
	if shared.err != nil {
		t.Fatalf("test database: %v\n(start it with `make test` or scripts/db-setup.sh, or set PARLEY_TEST_DATABASE_URL)", shared.err)
	}
	return shared.db
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
	base := baseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	shared.schema = "t_" + regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(pkg), "_") + "_" + randomHex(4)

	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		shared.err = fmt.Errorf("connect to %s: %w", redact(base), err)
		return
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{shared.schema}.Sanitize())
	conn.Close(ctx)
	if err != nil {
		shared.err = fmt.Errorf("create schema %s: %w", shared.schema, err)
		return
	}

	shared.url, err = withSearchPath(base, shared.schema)
	if err != nil {
		shared.err = err
		return
	}
	shared.db, err = postgres.Open(ctx, shared.url, 8)
	if err != nil {
		shared.err = err
		return
	}
	if _, err := migrations.Apply(ctx, shared.db.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		shared.err = err
	}
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
