package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestIngestJobLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws, other := pgtest.Workspace(t), pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	job, err := db.CreateIngestJob(ctx, ws.ID, kb.ID, map[string]int{"documents": 3})
	if err != nil || job.State != parley.JobQueued || !strings.Contains(string(job.Counts), `"documents": 3`) {
		t.Fatalf("create: %+v, %v", job, err)
	}
	get := func() parley.IngestJob {
		t.Helper()
		j, err := db.IngestJob(ctx, ws.ID, kb.ID, job.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	if err := db.UpdateIngestJob(ctx, job.ID, parley.JobRunning, map[string]int{"written": 0}, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchIngestJobs(ctx, map[string]any{job.ID: map[string]int{"written": 2}}); err != nil {
		t.Fatal(err)
	}
	if j := get(); j.State != parley.JobRunning || !strings.Contains(string(j.Counts), `"written": 2`) {
		t.Fatalf("after touch: %+v", j)
	}
	if err := db.UpdateIngestJob(ctx, job.ID, parley.JobSucceeded, map[string]int{"written": 3}, ""); err != nil {
		t.Fatal(err)
	}
	// A late heartbeat does not change an ended job.
	if err := db.TouchIngestJobs(ctx, map[string]any{job.ID: map[string]int{"written": 1}}); err != nil {
		t.Fatal(err)
	}
	j := get()
	var counts map[string]int
	if err := json.Unmarshal(j.Counts, &counts); err != nil || j.State != parley.JobSucceeded || counts["written"] != 3 {
		t.Fatalf("ended job: %+v (%v)", j, err)
	}
	if err := db.UpdateIngestJob(ctx, job.ID, parley.JobRunning, nil, ""); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("running again after the end: %v, want not found", err)
	}

	for _, tt := range []struct{ name, ws, kb, id string }{
		{"other workspace", other.ID, kb.ID, job.ID},
		{"other knowledge base", ws.ID, "00000000-0000-0000-0000-000000000000", job.ID},
		{"unknown id", ws.ID, kb.ID, "00000000-0000-0000-0000-000000000000"},
		{"not a uuid", ws.ID, kb.ID, "42"},
		{"id without its hyphens", ws.ID, kb.ID, strings.ReplaceAll(job.ID, "-", "")},
	} {
		if _, err := db.IngestJob(ctx, tt.ws, tt.kb, tt.id, time.Minute); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("%s: %v, want not found", tt.name, err)
		}
	}
}

func TestStaleIngestJobsFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, age := range []string{"1 hour", "1 hour", "1 second"} {
		j, err := db.CreateIngestJob(ctx, ws.ID, kb.ID, map[string]int{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool().Exec(ctx, `UPDATE ingest_jobs SET updated_at = now() - $2::interval WHERE id = $1`, j.ID, age); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	// Reading a stale job fails it.
	j, err := db.IngestJob(ctx, ws.ID, kb.ID, ids[0], time.Minute)
	if err != nil || j.State != parley.JobFailed || j.Error != postgres.StaleJobError {
		t.Fatalf("read stale job: %+v, %v", j, err)
	}
	// The sweep fails the other old one (and maybe other tests' stale
	// jobs: the table is shared), not the fresh one.
	if n, err := db.FailStaleIngestJobs(ctx, time.Minute); err != nil || n < 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	for i, want := range []string{parley.JobFailed, parley.JobFailed, parley.JobQueued} {
		if j, err := db.IngestJob(ctx, ws.ID, kb.ID, ids[i], time.Minute); err != nil || j.State != want {
			t.Errorf("job %d: %+v, %v, want %s", i, j, err, want)
		}
	}
}
