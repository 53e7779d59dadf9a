package main

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres"
)

func runMigrate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "migrate", "migrate\n\nApplies the embedded migrations to PARLEY_DATABASE_URL, then rebuilds\n(CONCURRENTLY, without holding up writes) the shared vector indexes\ncreated before migration 0020. Safe to run concurrently.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := migrations.Apply(ctx, db.Pool(), a.log)
	if err != nil {
		return err
	}
	current, err := migrations.Current(ctx, db.Pool())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "applied %d migration(s); schema is at version %d\n", len(applied), current)
	rebuilt, err := db.UpgradeVectorIndexes(ctx)
	if err != nil {
		return err
	}
	if rebuilt > 0 {
		fmt.Fprintf(a.stdout, "rebuilt %d shared vector index(es) with the predicate of migration 0020\n", rebuilt)
	}
	return nil
}

// openDB connects to the configured database.
func openDB(ctx context.Context, a *app) (*postgres.DB, error) {
	return postgres.Open(ctx, a.cfg.DatabaseURL, a.cfg.DBMaxConns)
}

// openMigratedDB connects and, unless PARLEY_AUTO_MIGRATE=false, brings the
// schema up to date; otherwise it checks that the schema is current.
func openMigratedDB(ctx context.Context, a *app) (*postgres.DB, error) {
	db, err := openDB(ctx, a)
	if err != nil {
		return nil, err
	}
	if a.cfg.AutoMigrate {
		_, err = migrations.Apply(ctx, db.Pool(), a.log)
	} else {
		err = schemaCurrent(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// schemaCurrent fails when the database lacks any of this binary's
// migrations.
func schemaCurrent(ctx context.Context, db *postgres.DB) error {
	missing, err := migrations.Missing(ctx, db.Pool())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("database schema lacks migration(s) %v of this binary: run parley migrate", missing)
	}
	return migrations.RiverCurrent(ctx, db.Pool())
}
