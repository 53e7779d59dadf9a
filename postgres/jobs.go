package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// StaleJobError is the error of a job whose server stopped heart-beating:
// it crashed or was killed before the job ended. Ingests are one
// transaction, so such a job wrote nothing.
const StaleJobError = "interrupted: the server running this job stopped before it finished (crash or restart); nothing was written, upload the file again"

const jobColumns = `id, workspace_id, kb_id, state, counts, error, created_at, updated_at`

func scanJob(r pgx.CollectableRow) (parley.IngestJob, error) {
	var j parley.IngestJob
	err := r.Scan(&j.ID, &j.WorkspaceID, &j.KBID, &j.State, &j.Counts, &j.Error, &j.CreatedAt, &j.UpdatedAt)
	return j, err
}

// CreateIngestJob records a queued job for a knowledge base; counts is
// stored as JSON.
func (db *DB) CreateIngestJob(ctx context.Context, workspaceID, kbID string, counts any) (parley.IngestJob, error) {
	rows, err := db.pool.Query(ctx, `INSERT INTO ingest_jobs (workspace_id, kb_id, state, counts)
		VALUES ($1, $2, 'queued', $3) RETURNING `+jobColumns, workspaceID, kbID, counts)
	if err != nil {
		return parley.IngestJob{}, fmt.Errorf("create ingest job: %w", err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	if err != nil {
		return parley.IngestJob{}, fmt.Errorf("create ingest job: %w", err)
	}
	return j, nil
}

// UpdateIngestJob sets a job's state, counts and error. A job that has
// ended is not changed again, except by the runner's final word: a job the
// stale sweep failed by mistake (its heartbeat was late) but that then
// committed is marked succeeded, which is the truth.
func (db *DB) UpdateIngestJob(ctx context.Context, id, state string, counts any, errMsg string) error {
	final := state == parley.JobSucceeded || state == parley.JobFailed
	tag, err := db.pool.Exec(ctx, `UPDATE ingest_jobs SET state = $2, counts = $3, error = $4, updated_at = now()
		WHERE id = $1 AND (state IN ('queued', 'running') OR $5)`, id, state, counts, errMsg, final)
	if err != nil {
		return fmt.Errorf("update ingest job %s to %s: %w", id, state, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "ingest job %s not found or already ended", id)
	}
	return nil
}

// TouchIngestJobs records that the runner of these jobs is alive, and
// stores each job's latest counts (id → counts) while it has not ended.
func (db *DB) TouchIngestJobs(ctx context.Context, counts map[string]any) error {
	if len(counts) == 0 {
		return nil
	}
	ids := make([]string, 0, len(counts))
	vals := make([]string, 0, len(counts))
	for id, c := range counts {
		raw, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("touch ingest jobs: encode counts of %s: %w", id, err)
		}
		ids = append(ids, id)
		vals = append(vals, string(raw))
	}
	_, err := db.pool.Exec(ctx, `UPDATE ingest_jobs j SET counts = u.counts::jsonb, updated_at = now()
		FROM unnest($1::uuid[], $2::text[]) AS u(id, counts)
		WHERE j.id = u.id AND j.state IN ('queued', 'running')`, ids, vals)
	if err != nil {
		return fmt.Errorf("touch ingest jobs: %w", err)
	}
	return nil
}

// IngestJob returns one job of a workspace's knowledge base. A job that is
// still queued or running but whose runner has not reported for staleAfter
// is failed first with StaleJobError: its server died.
func (db *DB) IngestJob(ctx context.Context, workspaceID, kbID, id string, staleAfter time.Duration) (parley.IngestJob, error) {
	if !parley.IsID(id) {
		return parley.IngestJob{}, parley.Errorf(parley.ENotFound, "ingest job %q not found", id)
	}
	rows, err := db.pool.Query(ctx, `
		WITH stale AS (
			UPDATE ingest_jobs SET state = 'failed', error = $5, updated_at = now()
			WHERE id = $1 AND workspace_id = $2 AND kb_id = $3
				AND state IN ('queued', 'running') AND updated_at < now() - $4::interval
			RETURNING `+jobColumns+`
		)
		SELECT `+jobColumns+` FROM stale
		UNION ALL
		SELECT `+jobColumns+` FROM ingest_jobs
		WHERE id = $1 AND workspace_id = $2 AND kb_id = $3 AND NOT EXISTS (SELECT FROM stale)`,
		id, workspaceID, kbID, staleAfter, StaleJobError)
	if err != nil {
		return parley.IngestJob{}, fmt.Errorf("get ingest job: %w", err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	return j, translate(err, fmt.Sprintf("ingest job %q", id))
}

// FailStaleIngestJobs fails every queued or running job whose runner has
// not reported for staleAfter (see StaleJobError) and returns how many.
// A server calls it when it starts.
func (db *DB) FailStaleIngestJobs(ctx context.Context, staleAfter time.Duration) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE ingest_jobs SET state = 'failed', error = $2, updated_at = now()
		WHERE state IN ('queued', 'running') AND updated_at < now() - $1::interval`, staleAfter, StaleJobError)
	if err != nil {
		return 0, fmt.Errorf("fail stale ingest jobs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
