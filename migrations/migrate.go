// Package migrations holds Parley's schema as numbered SQL files embedded in
// the binary, and applies them, followed by the migrations of River, the
// job queue (river.go).
//
// Files are named NNNN_name.up.sql and applied in order, each in its own
// transaction, and recorded in schema_migrations. A session-level advisory
// lock makes concurrent runs (two replicas starting at once) safe: the second
// waits, then finds nothing left to do.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.up.sql
var files embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// All returns the embedded migrations in version order. They are read
// and checked once: the set is fixed for the binary (readiness probes ask
// for Latest on every call).
func All() ([]Migration, error) {
	all, err := embedded()
	return slices.Clone(all), err
}

var embedded = sync.OnceValues(readEmbedded)

func readEmbedded() ([]Migration, error) {
	names, err := fs.Glob(files, "*.up.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		base := strings.TrimSuffix(name, ".up.sql")
		num, label, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.up.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: version must be a positive number", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, name, v)
		}
		seen[v] = name
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: label, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Latest is the version of the newest embedded migration.
func Latest() (int, error) {
	all, err := All()
	if err != nil {
		return 0, err
	}
	if len(all) == 0 {
		return 0, nil
	}
	return all[len(all)-1].Version, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    int PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Apply brings the schema in the pool's search_path up to date, River's
// job queue tables included (river.go), and returns the versions of
// Parley's migrations it applied.
func Apply(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]int, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	// Migrating needs two connections at once: one holds the lock while
	// River's migrator takes another. The caller's pool may allow just one
	// (PARLEY_DB_MAX_CONNS=1), so migrations run on a small pool of their own.
	cfg := pool.Config()
	cfg.MaxConns, cfg.MinConns = 2, 0
	mpool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer mpool.Close()
	conn, err := mpool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()

	// The lock is per schema, so test packages migrating their own schemas
	// do not wait for each other.
	const lockKey = `hashtext('parley.migrate.' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		// Unlock on a fresh context: the caller's may be cancelled already.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`)
	}()

	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return applied, fmt.Errorf("migrate %04d_%s: begin: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			_ = tx.Rollback(ctx)
			return applied, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			_ = tx.Rollback(ctx)
			return applied, fmt.Errorf("migrate %04d_%s: record: %w", m.Version, m.Name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return applied, fmt.Errorf("migrate %04d_%s: commit: %w", m.Version, m.Name, err)
		}
		log.InfoContext(ctx, "migration applied", "version", m.Version, "name", m.Name)
		applied = append(applied, m.Version)
	}
	if _, err := applyRiver(ctx, mpool, log); err != nil {
		return applied, err
	}
	return applied, nil
}

// Current returns the newest applied version (0 when none is).
func Current(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
			return 0, nil
		}
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Missing returns the versions of the embedded migrations the database has
// not applied, oldest first: all of them when it was never migrated. A
// migration numbered below the newest applied one (two branches merged in
// the other order) is missing too, though the newest version is current.
func Missing(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	done, err := appliedVersions(ctx, pool)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
		done, err = map[int]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	var missing []int
	for _, m := range all {
		if !done[m.Version] {
			missing = append(missing, m.Version)
		}
	}
	return missing, nil
}

// querier is what appliedVersions reads with: a pool or one of its
// connections.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appliedVersions(ctx context.Context, conn querier) (map[int]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied versions: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: scan version: %w", err)
		}
		done[v] = true
	}
	return done, rows.Err()
}
