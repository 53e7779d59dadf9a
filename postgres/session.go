package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// CreateSession stores a console session for the principal's key under the
// hash of its token, and deletes the workspace's sessions that have expired
// under lim.
func (db *DB) CreateSession(ctx context.Context, tokenHash []byte, p parley.Principal, lim parley.SessionLimits) error {
	_, err := db.pool.Exec(ctx, `
		WITH sweep AS (
			DELETE FROM console_sessions
			WHERE workspace_id = $2
				AND (last_seen_at < now() - make_interval(secs => $4) OR created_at < now() - make_interval(secs => $5))
		)
		INSERT INTO console_sessions (token_hash, workspace_id, key_id) VALUES ($1, $2, $3)`,
		tokenHash, p.Workspace.ID, p.KeyID, lim.Idle.Seconds(), lim.Max.Seconds())
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// Session returns who signed in with the session whose token hashes to
// tokenHash: EUnauthorized when there is none, it has expired under lim or
// its key has been revoked. A session in use is marked seen at most every
// Idle/10 (and at least every minute), so its idle time is that exact.
func (db *DB) Session(ctx context.Context, tokenHash []byte, lim parley.SessionLimits) (parley.Principal, error) {
	var p parley.Principal
	touch := min(lim.Idle/10, time.Minute)
	row := db.pool.QueryRow(ctx, `
		WITH s AS (
			SELECT s.token_hash, s.last_seen_at, k.id AS key_id, k.role, k.workspace_id
			FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
			WHERE s.token_hash = $1 AND k.revoked_at IS NULL
				AND s.last_seen_at >= now() - make_interval(secs => $2) AND s.created_at >= now() - make_interval(secs => $3)
		), touch AS (
			UPDATE console_sessions SET last_seen_at = now()
			WHERE token_hash = (SELECT token_hash FROM s WHERE last_seen_at < now() - make_interval(secs => $4))
		)
		SELECT w.id, w.name, w.settings, w.created_at, s.key_id, s.role
		FROM s JOIN workspaces w ON w.id = s.workspace_id`, tokenHash, lim.Idle.Seconds(), lim.Max.Seconds(), touch.Seconds())
	if err := scanWorkspace(row, &p.Workspace, &p.KeyID, &p.Role); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return p, parley.Errorf(parley.EUnauthorized, "not signed in, or the session has expired")
		}
		return p, fmt.Errorf("read console session: %w", err)
	}
	return p, nil
}

// DeleteExpiredSessions deletes the console sessions of every workspace
// that have expired under lim (zero fields: the defaults) or whose key has
// been revoked, and returns how many it deleted: `parley serve` runs it
// periodically.
func (db *DB) DeleteExpiredSessions(ctx context.Context, lim parley.SessionLimits) (int, error) {
	lim = lim.WithDefaults()
	tag, err := db.pool.Exec(ctx, `
		DELETE FROM console_sessions s
		WHERE s.last_seen_at < now() - make_interval(secs => $1) OR s.created_at < now() - make_interval(secs => $2)
			OR EXISTS (SELECT 1 FROM api_keys k WHERE k.id = s.key_id AND k.revoked_at IS NOT NULL)`,
		lim.Idle.Seconds(), lim.Max.Seconds())
	if err != nil {
		return 0, fmt.Errorf("delete expired console sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteSession ends a console session (signing out); an unknown one is
// not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}
