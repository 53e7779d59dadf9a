package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestEvalRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws, other := pgtest.Workspace(t), pgtest.Workspace(t)
	auroc, thr := 0.91, 0.42
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ids []int64
	for i, suite := range []string{"sample", "sample", "banking"} {
		r, err := db.CreateEvalRun(ctx, ws.ID, parley.EvalRun{
			Suite: suite, RanAt: day.AddDate(0, 0, i), Version: "v1", Embedder: "local", EvalWorkspace: "eval-" + suite, Passed: i != 1,
			Figures:      parley.EvalFigures{Cases: 10, Precision: 0.9 + float64(i)/100, AUROC: &auroc, CalibratedThreshold: &thr},
			Gates:        []parley.EvalGate{{Name: "min_precision", Min: 0.9, Actual: 0.9, Passed: true}},
			FailureCount: 2,
			Failures:     []parley.EvalFailure{{Case: "c1", Question: "Where is my parcel?", Kind: parley.EvalWrongAnswer, Expected: "delivery", Got: "returns", Confidence: 0.8}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == 0 || r.CreatedAt.IsZero() {
			t.Fatalf("stored run %+v lacks its id or time", r)
		}
		ids = append(ids, r.ID)
	}
	if _, err := db.CreateEvalRun(ctx, other.ID, parley.EvalRun{Suite: "sample", RanAt: day}); err != nil {
		t.Fatal(err)
	}

	all, err := db.ListEvalRuns(ctx, ws.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != ids[2] || all[2].ID != ids[0] {
		t.Fatalf("runs %+v, want the workspace's 3, newest first", all)
	}
	if all[0].Failures != nil || all[0].FailureCount != 2 || *all[0].Figures.AUROC != auroc || len(all[0].Gates) != 1 {
		t.Errorf("listed run %+v: want figures, gates and the failure count, no failures", all[0])
	}
	sample, err := db.ListEvalRuns(ctx, ws.ID, "sample", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(sample) != 1 || sample[0].ID != ids[1] || sample[0].Passed {
		t.Fatalf("latest sample run %+v, want run %d (failed)", sample, ids[1])
	}

	r, err := db.EvalRun(ctx, ws.ID, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !r.RanAt.Equal(day) || r.Suite != "sample" || r.Embedder != "local" || *r.Figures.CalibratedThreshold != thr ||
		len(r.Failures) != 1 || r.Failures[0].Question != "Where is my parcel?" {
		t.Errorf("run %+v, want the stored one with its failure", r)
	}
	if _, err := db.EvalRun(ctx, other.ID, ids[0]); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("another workspace's run: %v, want not_found", err)
	}
	if _, err := db.EvalRun(ctx, ws.ID, 1<<62); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("unknown run: %v, want not_found", err)
	}
}
