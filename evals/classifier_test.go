package evals_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// With the intent classifier trained after loading the knowledge (the
// knowledge service's rule, as in parley eval), the sample suite still
// passes its gates.
func TestSampleSuiteWithClassifier(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	suite, runner := suiteRunner(t, db, "suites/sample/suite.json", true)
	embedder := retrieval.NewLocal()
	ws := pgtest.Workspace(t)
	rep, err := runner.Run(ctx, suite, evals.Options{Workspace: ws.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.ClassifierVersion(ctx, ws.ID, embedder.Model()); !ok || err != nil {
		t.Fatalf("no classifier trained for the suite's workspace (%v)", err)
	}
	t.Logf("hit@1 %.3f hit@5 %.3f precision %.3f coverage %.3f calibrated coverage %.3f",
		rep.Retrieval.HitAt1, rep.Retrieval.HitAt5, rep.Decisions.Precision, rep.Decisions.Coverage, rep.Calibration.Coverage)
	for _, g := range rep.Gates {
		if !g.Passed {
			t.Errorf("gate %s: %.3f, minimum %.3f", g.Name, g.Actual, g.Min)
		}
	}
}
