package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// LostJobError is the error of a job the queue gave up on while it was
// queued or running: its last attempt's server died (River then discards
// the job), or it was cancelled. Ingests are one transaction, so such a
// job wrote nothing.
const LostJobError = "interrupted: the server running this job's last attempt stopped before it finished; nothing was written, upload the file again"

const jobColumns = `id, workspace_id, kb_id, state, attempt, counts, error, created_at, updated_at`

func scanJob(r pgx.CollectableRow) (parley.IngestJob, error) {
	var j parley.IngestJob
	err := r.Scan(&j.ID, &j.WorkspaceID, &j.KBID, &j.State, &j.Attempt, &j.Counts, &j.Error, &j.CreatedAt, &j.UpdatedAt)
	return j, err
}

// StartIngestJob marks a queued (or interrupted running) job running as
// attempt and returns it with its upload. A job that has ended, or that
// does not exist, is a not-found error: there is nothing to run.
func (db *DB) StartIngestJob(ctx context.Context, id string, attempt int) (parley.IngestJob, []byte, error) {
	var (
		j      parley.IngestJob
		upload []byte
	)
	err := db.pool.QueryRow(ctx, `UPDATE ingest_jobs SET state = 'running', attempt = $2, updated_at = now()
		WHERE id = $1 AND state IN ('queued', 'running')
		RETURNING `+jobColumns+`, upload`, id, attempt).Scan(
		&j.ID, &j.WorkspaceID, &j.KBID, &j.State, &j.Attempt, &j.Counts, &j.Error, &j.CreatedAt, &j.UpdatedAt, &upload)
	if err != nil {
		return j, nil, translate(err, fmt.Sprintf("unfinished ingest job %s", id))
	}
	return j, upload, nil
}

// UpdateIngestJob sets a job's state, counts and error. A job that has
// ended is not changed again, and its upload is dropped when it does.
func (db *DB) UpdateIngestJob(ctx context.Context, u parley.IngestJobUpdate) error {
	final := u.State == parley.JobSucceeded || u.State == parley.JobFailed
	tag, err := db.pool.Exec(ctx, `UPDATE ingest_jobs SET state = $2, counts = $3, error = $4, updated_at = now(),
			upload = CASE WHEN $5 THEN NULL ELSE upload END
		WHERE id = $1 AND state IN ('queued', 'running')`, u.ID, u.State, u.Counts, u.Error, final)
	if err != nil {
		return fmt.Errorf("update ingest job %s to %s: %w", u.ID, u.State, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "ingest job %s not found or already ended", u.ID)
	}
	return nil
}

// TouchIngestJobs stores each running job's latest counts (id → the JSON
// object its runner encoded) while it has not ended.
func (db *DB) TouchIngestJobs(ctx context.Context, counts map[string]json.RawMessage) error {
	if len(counts) == 0 {
		return nil
	}
	ids := make([]string, 0, len(counts))
	vals := make([]string, 0, len(counts))
	for id, c := range counts {
		ids = append(ids, id)
		vals = append(vals, string(c))
	}
	_, err := db.pool.Exec(ctx, `UPDATE ingest_jobs j SET counts = u.counts::jsonb, updated_at = now()
		FROM unnest($1::uuid[], $2::text[]) AS u(id, counts)
		WHERE j.id = u.id AND j.state IN ('queued', 'running')`, ids, vals)
	if err != nil {
		return fmt.Errorf("touch ingest jobs: %w", err)
	}
	return nil
}

// CountPendingIngestJobs returns how many of a workspace's ingest jobs are
// queued or running.
func (db *DB) CountPendingIngestJobs(ctx context.Context, workspaceID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM ingest_jobs WHERE workspace_id = $1 AND state IN ('queued', 'running')`,
		workspaceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending ingest jobs: %w", err)
	}
	return n, nil
}

// lostJob is true of an unfinished ingest job (alias j) whose River job
// is gone, discarded or cancelled: nothing will run it again. A job from
// before River (no river_job_id) ran in its server's process, which
// reported every 10 s: silent for a minute, it is lost too.
const lostJob = `j.state IN ('queued', 'running') AND CASE WHEN j.river_job_id IS NULL
	THEN j.updated_at < now() - interval '1 minute'
	ELSE NOT EXISTS (SELECT FROM river_job r WHERE r.id = j.river_job_id AND r.state NOT IN ('discarded', 'cancelled')) END`

// IngestJob returns one job of a workspace's knowledge base. A lost job
// (see LostJobError) is failed first.
func (db *DB) IngestJob(ctx context.Context, workspaceID, kbID, id string) (parley.IngestJob, error) {
	if !parley.IsID(id) {
		return parley.IngestJob{}, parley.Errorf(parley.ENotFound, "ingest job %q not found", id)
	}
	rows, err := db.pool.Query(ctx, `
		WITH lost AS (
			UPDATE ingest_jobs j SET state = 'failed', error = $4, upload = NULL, updated_at = now()
			WHERE j.id = $1 AND j.workspace_id = $2 AND j.kb_id = $3 AND `+lostJob+`
			RETURNING `+jobColumns+`
		)
		SELECT `+jobColumns+` FROM lost
		UNION ALL
		SELECT `+jobColumns+` FROM ingest_jobs
		WHERE id = $1 AND workspace_id = $2 AND kb_id = $3 AND NOT EXISTS (SELECT FROM lost)`,
		id, workspaceID, kbID, LostJobError)
	if err != nil {
		return parley.IngestJob{}, fmt.Errorf("get ingest job: %w", err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	return j, translate(err, fmt.Sprintf("ingest job %q", id))
}

// FailLostIngestJobs fails every lost job (see LostJobError), dropping its
// upload, and returns how many. `parley serve` runs it periodically.
func (db *DB) FailLostIngestJobs(ctx context.Context) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE ingest_jobs j SET state = 'failed', error = $1, upload = NULL, updated_at = now()
		WHERE `+lostJob, LostJobError)
	if err != nil {
		return 0, fmt.Errorf("fail lost ingest jobs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
