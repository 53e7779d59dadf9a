package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// testArgs is a queue message for jobs nothing runs.
type testArgs struct{ JobID string }

func (testArgs) Kind() string { return "test_ingest" }

// createJob records and queues an ingest job with an insert-only queue.
func createJob(t *testing.T, ws, kb string, upload []byte) parley.IngestJob {
	t.Helper()
	q, err := postgres.NewQueue(context.Background(), pgtest.DB(t), postgres.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job, err := q.CreateIngestJob(context.Background(), postgres.NewIngestJob{
		WorkspaceID: ws, KBID: kb, Counts: json.RawMessage(`{"documents": 3}`), Upload: upload,
		Args: func(id string) river.JobArgs { return testArgs{JobID: id} },
	})
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestIngestJobLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws, other := pgtest.Workspace(t), pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	job := createJob(t, ws.ID, kb.ID, []byte("the upload"))
	if job.State != parley.JobQueued || job.Attempt != 0 || !strings.Contains(string(job.Counts), `"documents": 3`) {
		t.Fatalf("create: %+v", job)
	}
	var queued int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job r JOIN ingest_jobs j ON j.river_job_id = r.id
		WHERE j.id = $1 AND r.args->>'JobID' = $1::text`, job.ID).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("river jobs for the ingest job: %d, %v", queued, err)
	}
	get := func() parley.IngestJob {
		t.Helper()
		j, err := db.IngestJob(ctx, ws.ID, kb.ID, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	started, upload, err := db.StartIngestJob(ctx, job.ID, 1)
	if err != nil || started.State != parley.JobRunning || started.Attempt != 1 || string(upload) != "the upload" {
		t.Fatalf("start: %+v, %q, %v", started, upload, err)
	}
	if err := db.TouchIngestJobs(ctx, map[string]json.RawMessage{job.ID: json.RawMessage(`{"written": 2}`)}); err != nil {
		t.Fatal(err)
	}
	if j := get(); j.State != parley.JobRunning || !strings.Contains(string(j.Counts), `"written": 2`) {
		t.Fatalf("after touch: %+v", j)
	}
	// A second attempt (the first one's server died) starts it again.
	if j, _, err := db.StartIngestJob(ctx, job.ID, 2); err != nil || j.Attempt != 2 {
		t.Fatalf("second attempt: %+v, %v", j, err)
	}
	if err := db.UpdateIngestJob(ctx, parley.IngestJobUpdate{ID: job.ID, State: parley.JobSucceeded, Counts: json.RawMessage(`{"written": 3}`)}); err != nil {
		t.Fatal(err)
	}
	// A late progress report does not change an ended job.
	if err := db.TouchIngestJobs(ctx, map[string]json.RawMessage{job.ID: json.RawMessage(`{"written": 1}`)}); err != nil {
		t.Fatal(err)
	}
	j := get()
	var counts map[string]int
	if err := json.Unmarshal(j.Counts, &counts); err != nil || j.State != parley.JobSucceeded || counts["written"] != 3 {
		t.Fatalf("ended job: %+v (%v)", j, err)
	}
	var kept bool
	if err := db.Pool().QueryRow(ctx, `SELECT upload IS NOT NULL FROM ingest_jobs WHERE id = $1`, job.ID).Scan(&kept); err != nil || kept {
		t.Fatalf("upload kept after the end: %v, %v", kept, err)
	}
	if err := db.UpdateIngestJob(ctx, parley.IngestJobUpdate{ID: job.ID, State: parley.JobRunning, Counts: json.RawMessage(`{}`)}); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("running again after the end: %v, want not found", err)
	}
	if _, _, err := db.StartIngestJob(ctx, job.ID, 3); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("starting an ended job: %v, want not found", err)
	}

	for _, tt := range []struct{ name, ws, kb, id string }{
		{"other workspace", other.ID, kb.ID, job.ID},
		{"other knowledge base", ws.ID, "00000000-0000-0000-0000-000000000000", job.ID},
		{"unknown id", ws.ID, kb.ID, "00000000-0000-0000-0000-000000000000"},
		{"not a uuid", ws.ID, kb.ID, "42"},
		{"id without its hyphens", ws.ID, kb.ID, strings.ReplaceAll(job.ID, "-", "")},
	} {
		if _, err := db.IngestJob(ctx, tt.ws, tt.kb, tt.id); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("%s: %v, want not found", tt.name, err)
		}
	}
}

// A job the queue gave up on (its last attempt's server died: River
// discards it) is failed when read, and by the sweep; a queued one is not.
func TestLostIngestJobsFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		j := createJob(t, ws.ID, kb.ID, []byte("x"))
		if i < 2 {
			if _, err := db.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
				WHERE id = (SELECT river_job_id FROM ingest_jobs WHERE id = $1)`, j.ID); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, j.ID)
	}
	j, err := db.IngestJob(ctx, ws.ID, kb.ID, ids[0])
	if err != nil || j.State != parley.JobFailed || j.Error != postgres.LostJobError {
		t.Fatalf("read lost job: %+v, %v", j, err)
	}
	// The sweep fails the other lost one (and maybe other tests': the
	// table is shared), not the queued one.
	if n, err := db.FailLostIngestJobs(ctx); err != nil || n < 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	for i, want := range []string{parley.JobFailed, parley.JobFailed, parley.JobQueued} {
		if j, err := db.IngestJob(ctx, ws.ID, kb.ID, ids[i]); err != nil || j.State != want {
			t.Errorf("job %d: %+v, %v, want %s", i, j, err, want)
		}
	}
}
