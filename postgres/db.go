// Package postgres is Parley's store: workspaces, keys, knowledge, chunks
// with their vectors, conversations, escalations and the webhook outbox, in
// PostgreSQL with pgvector. It is the only package besides migrations that
// speaks SQL. JSON it stores and reads back has a stored shape of its own
// where the API's could drift from it (the escalation context, versioned),
// and the webhook events it writes to the outbox are parley's typed events.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
	"golang.org/x/sync/singleflight"

	"github.com/parleyhq/parley"
)

// DB is a pool of connections to one Parley database schema.
type DB struct {
	pool       *pgxpool.Pool
	counts     sync.Map           // workspace/model → *cachedStats, see chunkStats
	countsRead singleflight.Group // the chunkStats reads in progress, by key
	principals *principalCache    // valid keys' principals, see Authenticate
}

// Open connects to url and checks the connection. The vector extension must
// already exist and public must be on the search_path.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "PARLEY_DATABASE_URL is not a valid PostgreSQL URL: %v", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if err := pgxvec.RegisterTypes(ctx, c); err != nil {
			return fmt.Errorf("register pgvector types (is the vector extension installed? run scripts/db-setup.sh): %w", err)
		}
		// Keep scanning the HNSW index until enough rows pass the
		// workspace filter, which is applied after the index scan.
		if _, err := c.Exec(ctx, `SET hnsw.iterative_scan = relaxed_order`); err != nil {
			return fmt.Errorf("enable pgvector iterative scan (needs pgvector 0.8 or newer): %w", err)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s@%s:%d/%s: %w",
			cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &DB{pool: pool, principals: newPrincipalCache(PrincipalTTL)}, nil
}

// Autovacuum says whether the server runs autovacuum. Without it the
// planner keeps the statistics the tables had when last analyzed: those of
// empty conversation tables make every lookup of a conversation by its key
// a sequential scan, whose cost grows with each conversation stored.
func (db *DB) Autovacuum(ctx context.Context) (bool, error) {
	var on bool
	if err := db.pool.QueryRow(ctx, `SELECT current_setting('autovacuum')::bool`).Scan(&on); err != nil {
		return false, fmt.Errorf("read the autovacuum setting: %w", err)
	}
	return on, nil
}

// Pool exposes the pool for the migrations package.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close releases every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// withSettings sends sql after settings (set_config calls with is_local
// true) in one batch, one round trip, which PostgreSQL runs as one implicit
// transaction: the settings hold for the statement and end with it. read
// reads the statement's results.
func (db *DB) withSettings(ctx context.Context, settings, sql string, args []any, read func(pgx.BatchResults) error) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT ` + settings)
	b.Queue(sql, args...)
	br := db.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// isUniqueViolation reports whether err is a violation of the unique
// index or constraint named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// translate turns dependency errors into domain errors: no rows → not found,
// unique violation → conflict, foreign key violation → not found. what names
// the thing, for the message.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "%s not found", what)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return parley.Errorf(parley.EConflict, "%s already exists", what)
		case "23503":
			return parley.Errorf(parley.ENotFound, "%s refers to something that does not exist", what)
		case "23514", "22P02":
			return parley.Errorf(parley.EInvalid, "%s is not valid", what)
		}
	}
	return err
}

// BackendPIDs returns the process ids of the server processes serving
// clients of this database (every client's, not only this pool's).
func (db *DB) BackendPIDs(ctx context.Context) ([]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend'`)
	if err != nil {
		return nil, fmt.Errorf("list database backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("list database backends: %w", err)
	}
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out, nil
}
