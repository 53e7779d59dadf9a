package migrations

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River, the job queue that runs Parley's background work (see package
// postgres, queue.go), keeps its tables (river_job, river_leader, ...) in
// the same schema as Parley's, and brings its own migrations, versioned in
// its river_migration table. Apply runs them after Parley's, under the same
// lock, so one `parley migrate` (or an auto-migrating start) sets up both.

// riverMigrator returns River's migrator for the pool's current schema
// (the first of its search_path), named explicitly: unqualified, River
// would take its tables in a schema later on the search_path (public) for
// its own and create none.
func riverMigrator(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*rivermigrate.Migrator[pgx.Tx], error) {
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("river migrations: read the current schema: %w", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log, Schema: schema})
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	return m, nil
}

// applyRiver brings River's tables up to date, each River version in a
// transaction of its own (some add an enum value that the next statement
// uses, which PostgreSQL allows only after a commit), and returns the
// River versions it applied. Apply calls it holding its lock.
func applyRiver(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]int, error) {
	m, err := riverMigrator(ctx, pool, log)
	if err != nil {
		return nil, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river (job queue) tables: %w", err)
	}
	var applied []int
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	if len(applied) > 0 {
		log.InfoContext(ctx, "river migrations applied", "versions", applied)
	}
	return applied, nil
}

// RiverCurrent fails when River's tables are behind the River this binary
// is built with.
func RiverCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := riverMigrator(ctx, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river (job queue) tables: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("river (job queue) tables are not current: %v: run parley migrate", res.Messages)
	}
	return nil
}
