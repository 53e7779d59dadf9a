package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

const originColumns = `kb_id, workspace_id, url, settings, sync_every_seconds, pages,
	sync_state, sync_error, sync_report, synced_at, next_sync_at, updated_at`

func scanOrigin(r pgx.CollectableRow) (parley.Origin, error) {
	var o parley.Origin
	var every int64
	err := r.Scan(&o.KBID, &o.WorkspaceID, &o.URL, &o.Settings, &every, &o.Pages,
		&o.SyncState, &o.SyncError, &o.SyncReport, &o.SyncedAt, &o.NextSyncAt, &o.UpdatedAt)
	o.SyncEvery = time.Duration(every) * time.Second
	return o, err
}

// SetOrigin sets a knowledge base's origin. A new URL forgets the pages the
// last crawl read; a schedule makes the first sync due after one period.
func (db *DB) SetOrigin(ctx context.Context, o parley.Origin) (parley.Origin, error) {
	settings := o.Settings
	if len(settings) == 0 {
		settings = json.RawMessage(`{}`)
	}
	rows, err := db.pool.Query(ctx, `
		INSERT INTO kb_origins AS o (kb_id, workspace_id, url, settings, sync_every_seconds, next_sync_at)
		VALUES ($1, $2, $3, $4, $5::bigint, CASE WHEN $5::bigint > 0 THEN now() + make_interval(secs => $5::bigint) END)
		ON CONFLICT (kb_id) DO UPDATE SET
			url = EXCLUDED.url, settings = EXCLUDED.settings,
			sync_every_seconds = EXCLUDED.sync_every_seconds,
			pages = CASE WHEN o.url = EXCLUDED.url THEN o.pages ELSE '{}' END,
			next_sync_at = EXCLUDED.next_sync_at, updated_at = now()
		RETURNING `+originColumns,
		o.KBID, o.WorkspaceID, o.URL, settings, int64(o.SyncEvery/time.Second))
	if err != nil {
		return parley.Origin{}, translate(err, "knowledge base")
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanOrigin)
	return out, translate(err, "knowledge base")
}

// Origin returns a knowledge base's origin; not found when it has none.
func (db *DB) Origin(ctx context.Context, workspaceID, kbID string) (parley.Origin, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+originColumns+` FROM kb_origins WHERE workspace_id = $1 AND kb_id = $2`, workspaceID, kbID)
	if err != nil {
		return parley.Origin{}, fmt.Errorf("read origin: %w", err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOrigin)
	if err == pgx.ErrNoRows {
		return o, parley.Errorf(parley.ENotFound, "the knowledge base has no origin to sync from; set one with PUT .../origin or parley ingest URL")
	}
	return o, translate(err, "origin")
}

// MarkOriginSync records that a sync is queued or running.
func (db *DB) MarkOriginSync(ctx context.Context, kbID, state string) error {
	_, err := db.pool.Exec(ctx, `UPDATE kb_origins SET sync_state = $2, updated_at = now() WHERE kb_id = $1`, kbID, state)
	return translate(err, "origin")
}

// FinishOriginSync records the outcome of a sync: the crawl's pages (kept
// as they were when s.Pages is nil, as after a failed sync), its error and
// report. A scheduled origin's next sync is due one period later.
func (db *DB) FinishOriginSync(ctx context.Context, s parley.OriginSync) error {
	state := parley.JobSucceeded
	if s.Error != "" {
		state = parley.JobFailed
	}
	_, err := db.pool.Exec(ctx, `
		UPDATE kb_origins SET pages = coalesce($2, pages), sync_state = $3, sync_error = $4, sync_report = $5,
			synced_at = now(), updated_at = now(),
			next_sync_at = CASE WHEN sync_every_seconds > 0 THEN now() + make_interval(secs => sync_every_seconds) END
		WHERE kb_id = $1`, s.KBID, s.Pages, state, s.Error, s.Report)
	return translate(err, "origin")
}

// ClaimDueOrigins returns up to limit origins whose scheduled sync is due,
// marked queued and their next sync moved one period on, so that of
// several servers only one queues each.
func (db *DB) ClaimDueOrigins(ctx context.Context, limit int) ([]parley.Origin, error) {
	rows, err := db.pool.Query(ctx, `
		UPDATE kb_origins SET sync_state = 'queued', updated_at = now(),
			next_sync_at = now() + make_interval(secs => sync_every_seconds)
		WHERE kb_id IN (SELECT kb_id FROM kb_origins WHERE next_sync_at <= now()
			ORDER BY next_sync_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING `+originColumns, limit)
	if err != nil {
		return nil, fmt.Errorf("claim due origins: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanOrigin)
	return out, translate(err, "origin")
}
