package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

var workspaceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// ValidWorkspaceName checks a workspace name: lower-case letters, digits,
// '.', '_' and '-', at most 63 characters.
func ValidWorkspaceName(name string) error {
	if !workspaceName.MatchString(name) {
		return parley.Errorf(parley.EInvalid, "workspace name %q: use 1-63 lower-case letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// EnsureWorkspace returns the workspace named name, creating it with default
// settings if it does not exist. created reports whether it was created.
func (db *DB) EnsureWorkspace(ctx context.Context, name string) (ws parley.Workspace, created bool, err error) {
	if err := ValidWorkspaceName(name); err != nil {
		return ws, false, err
	}
	settings, err := json.Marshal(parley.DefaultSettings())
	if err != nil {
		return ws, false, fmt.Errorf("encode default settings: %w", err)
	}
	// xmax = 0 tells a freshly inserted row from one the upsert only touched.
	row := db.pool.QueryRow(ctx, `
		INSERT INTO workspaces (name, settings) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
		RETURNING id, name, settings, created_at, (xmax = 0)`, name, settings)
	if err := scanWorkspace(row, &ws, &created); err != nil {
		return ws, false, fmt.Errorf("ensure workspace %q: %w", name, err)
	}
	return ws, created, nil
}

// WorkspaceByName returns the workspace named name.
func (db *DB) WorkspaceByName(ctx context.Context, name string) (parley.Workspace, error) {
	var ws parley.Workspace
	row := db.pool.QueryRow(ctx, `SELECT id, name, settings, created_at FROM workspaces WHERE name = $1`, name)
	if err := scanWorkspace(row, &ws); err != nil {
		return ws, translate(err, fmt.Sprintf("workspace %q", name))
	}
	return ws, nil
}

// Workspace returns the workspace with the given id.
func (db *DB) Workspace(ctx context.Context, id string) (parley.Workspace, error) {
	var ws parley.Workspace
	row := db.pool.QueryRow(ctx, `SELECT id, name, settings, created_at FROM workspaces WHERE id = $1`, id)
	if err := scanWorkspace(row, &ws); err != nil {
		return ws, translate(err, "workspace")
	}
	return ws, nil
}

// WorkspaceLanguages returns the languages the workspaces serve, each
// once.
func (db *DB) WorkspaceLanguages(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT jsonb_array_elements_text(settings->'languages') FROM workspaces`)
	if err != nil {
		return nil, fmt.Errorf("read the workspaces' languages: %w", err)
	}
	langs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the workspaces' languages: %w", err)
	}
	return langs, nil
}

// UpdateSettings replaces a workspace's settings after validating them. The
// default team need not exist yet (the first escalation to it creates it),
// but its name must be one team creation accepts.
func (db *DB) UpdateSettings(ctx context.Context, workspaceID string, s parley.WorkspaceSettings) (parley.Workspace, error) {
	var ws parley.Workspace
	if err := s.Validate(); err != nil {
		return ws, err
	}
	if err := checkName("default_team: team", s.DefaultTeam); err != nil {
		return ws, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return ws, fmt.Errorf("encode settings: %w", err)
	}
	row := db.pool.QueryRow(ctx, `UPDATE workspaces SET settings = $2 WHERE id = $1
		RETURNING id, name, settings, created_at`, workspaceID, b)
	err = scanWorkspace(row, &ws)
	db.principals.clear()
	if err != nil {
		return ws, translate(err, "workspace")
	}
	return ws, nil
}

// scanWorkspace reads id, name, settings, created_at and any extra columns.
// Settings missing from the stored JSON keep their defaults.
func scanWorkspace(row pgx.Row, ws *parley.Workspace, extra ...any) error {
	var raw []byte
	dest := append([]any{&ws.ID, &ws.Name, &raw, &ws.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	ws.Settings = parley.DefaultSettings()
	if err := json.Unmarshal(raw, &ws.Settings); err != nil {
		return fmt.Errorf("decode settings of workspace %s: %w", ws.Name, err)
	}
	return nil
}
