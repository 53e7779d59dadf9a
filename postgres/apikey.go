package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// keyPrefix starts every API key, so leaked keys are easy to scan for.
const keyPrefix = "prly_"

// CreateKey makes a key for the workspace and returns it with its secret,
// which is not stored and cannot be shown again.
func (db *DB) CreateKey(ctx context.Context, workspaceID, name string, role parley.Role) (parley.APIKey, string, error) {
	return db.createKey(ctx, workspaceID, name, role, []string{})
}

// createKey makes a key with its allowed origins, in one statement.
func (db *DB) createKey(ctx context.Context, workspaceID, name string, role parley.Role, origins []string) (parley.APIKey, string, error) {
	var k parley.APIKey
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return k, "", fmt.Errorf("generate key: %w", err)
	}
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	prefix := secret[:len(keyPrefix)+6]
	rows, err := db.pool.Query(ctx, `
		INSERT INTO api_keys (workspace_id, name, role, prefix, hash, allowed_origins)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id, workspace_id, (SELECT name FROM workspaces WHERE id = $1), name, role, prefix, created_at, last_used_at, revoked_at, allowed_origins`,
		workspaceID, name, string(role), prefix, hashKey(secret), origins)
	if err == nil {
		k, err = pgx.CollectExactlyOneRow(rows, scanKey)
	}
	if err != nil {
		return k, "", translate(err, "api key")
	}
	return k, secret, nil
}

// ListKeys lists the keys of one workspace, or of all when workspaceID is
// empty, newest first.
func (db *DB) ListKeys(ctx context.Context, workspaceID string) ([]parley.APIKey, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT `+keyColumns+`
		FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
		WHERE $1 = '' OR k.workspace_id::text = $1
		ORDER BY w.name, k.created_at DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey revokes a key by id or by its shown prefix. Revoking a revoked
// key is not an error.
func (db *DB) RevokeKey(ctx context.Context, idOrPrefix string) (parley.APIKey, error) {
	var k parley.APIKey
	rows, err := db.pool.Query(ctx, `
		UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now())
		FROM workspaces w
		WHERE w.id = k.workspace_id AND (k.id::text = $1 OR k.prefix = $1)
		RETURNING `+keyColumns, idOrPrefix)
	if err != nil {
		return k, fmt.Errorf("revoke key: %w", err)
	}
	keys, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return k, fmt.Errorf("revoke key: %w", err)
	}
	db.principals.clear()
	switch len(keys) {
	case 0:
		return k, parley.Errorf(parley.ENotFound, "no key with id or prefix %q", idOrPrefix)
	case 1:
		return keys[0], nil
	}
	return k, parley.Errorf(parley.EConflict, "prefix %q matches %d keys: revoke by id", idOrPrefix, len(keys))
}

// Authenticate returns who holds secret, with the key's workspace. Unknown
// and revoked keys give EUnauthorized. A valid key is read from the
// database at most once every PrincipalTTL (see principals.go); each read
// records the key's last use, at most once a minute, in the same round
// trip.
func (db *DB) Authenticate(ctx context.Context, secret string) (parley.Principal, error) {
	var p parley.Principal
	if !strings.HasPrefix(secret, keyPrefix) {
		return p, parley.Errorf(parley.EUnauthorized, "invalid API key")
	}
	hash := hashKey(secret)
	if p, ok := db.principals.get(hash); ok {
		return p, nil
	}
	at, cleared := db.principals.reading()
	var revoked bool
	row := db.pool.QueryRow(ctx, `
		WITH k AS (
			SELECT id, workspace_id, role, revoked_at IS NOT NULL AS revoked, last_used_at, allowed_origins
			FROM api_keys WHERE hash = $1
		), touch AS (
			UPDATE api_keys SET last_used_at = now()
			WHERE id = (SELECT id FROM k WHERE NOT revoked
				AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
		)
		SELECT w.id, w.name, w.settings, w.created_at, k.id, k.role, k.revoked, k.allowed_origins
		FROM k JOIN workspaces w ON w.id = k.workspace_id`, hash)
	err := scanWorkspace(row, &p.Workspace, &p.KeyID, &p.Role, &revoked, &p.AllowedOrigins)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return p, parley.Errorf(parley.EUnauthorized, "invalid API key")
		}
		return p, fmt.Errorf("authenticate key: %w", err)
	}
	if revoked {
		return parley.Principal{}, parley.Errorf(parley.EUnauthorized, "API key has been revoked")
	}
	db.principals.put(hash, p, at, cleared)
	return p, nil
}

// keyColumns are the columns scanKey reads, of api_keys k joined with
// workspaces w.
const keyColumns = `k.id, k.workspace_id, w.name, k.name, k.role, k.prefix, k.created_at, k.last_used_at, k.revoked_at, k.allowed_origins`

func scanKey(r pgx.CollectableRow) (parley.APIKey, error) {
	var k parley.APIKey
	err := r.Scan(&k.ID, &k.WorkspaceID, &k.Workspace, &k.Name, &k.Role, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt, &k.AllowedOrigins)
	return k, err
}

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
