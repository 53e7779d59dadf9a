package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// CreateEvalRun stores a run of an eval suite with the workspace and
// returns it with its id.
func (db *DB) CreateEvalRun(ctx context.Context, workspaceID string, r parley.EvalRun) (parley.EvalRun, error) {
	if r.Gates == nil {
		r.Gates = []parley.EvalGate{}
	}
	if r.Failures == nil {
		r.Failures = []parley.EvalFailure{}
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO eval_runs (workspace_id, suite, ran_at, version, embedder, eval_workspace, passed, figures, gates, failure_count, failures)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		RETURNING id, created_at`,
		workspaceID, r.Suite, r.RanAt, r.Version, r.Embedder, r.EvalWorkspace, r.Passed, r.Figures, r.Gates, r.FailureCount, r.Failures,
	).Scan(&r.ID, &r.CreatedAt)
	if err != nil {
		return r, fmt.Errorf("store eval run of suite %s: %w", r.Suite, translate(err, "eval run"))
	}
	return r, nil
}

const evalRunColumns = `id, suite, ran_at, created_at, version, embedder, eval_workspace, passed, figures, gates, failure_count`

func scanEvalRun(row pgx.Row, r *parley.EvalRun, more ...any) error {
	return row.Scan(append([]any{&r.ID, &r.Suite, &r.RanAt, &r.CreatedAt, &r.Version, &r.Embedder, &r.EvalWorkspace,
		&r.Passed, &r.Figures, &r.Gates, &r.FailureCount}, more...)...)
}

// ListEvalRuns lists the workspace's eval runs, newest first, at most
// limit, of one suite unless suite is empty; without their failed cases.
func (db *DB) ListEvalRuns(ctx context.Context, workspaceID, suite string, limit int) ([]parley.EvalRun, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+evalRunColumns+` FROM eval_runs
		WHERE workspace_id = $1 AND ($2 = '' OR suite = $2)
		ORDER BY ran_at DESC, id DESC LIMIT $3`, workspaceID, suite, limit)
	if err != nil {
		return nil, fmt.Errorf("list eval runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.EvalRun, error) {
		var r parley.EvalRun
		return r, scanEvalRun(row, &r)
	})
	if err != nil {
		return nil, fmt.Errorf("list eval runs: %w", err)
	}
	return runs, nil
}

// EvalRun returns one of the workspace's eval runs with its failed cases;
// ENotFound when the workspace has no run with that id.
func (db *DB) EvalRun(ctx context.Context, workspaceID string, id int64) (parley.EvalRun, error) {
	var r parley.EvalRun
	row := db.pool.QueryRow(ctx, `SELECT `+evalRunColumns+`, failures FROM eval_runs WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err := scanEvalRun(row, &r, &r.Failures); err != nil {
		return r, translate(err, fmt.Sprintf("eval run %d", id))
	}
	return r, nil
}
