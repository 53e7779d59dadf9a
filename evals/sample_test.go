package evals_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// The sample suite is a gate: its knowledge, cases and gates are the
// product's offline quality floor, run by make test.
func TestSampleSuiteGates(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	suite, runner := sampleRunner(t, db)
	ws := pgtest.Workspace(t)
	rep, err := runner.Run(ctx, suite, evals.Options{Workspace: ws.Name})
	if err != nil {
		t.Fatal(err)
	}
	// A knowledge service without a trainer (parley eval --no-classifier)
	// trains nothing.
	if _, ok, err := db.ClassifierVersion(ctx, ws.ID, retrieval.LocalModel); ok || err != nil {
		t.Fatalf("a classifier was trained without a trainer (err %v)", err)
	}
	t.Logf("hit@1 %.3f hit@5 %.3f precision %.3f coverage %.3f escalation recall %.3f calibrated threshold %.3f",
		rep.Retrieval.HitAt1, rep.Retrieval.HitAt5, rep.Decisions.Precision, rep.Decisions.Coverage,
		rep.Decisions.EscalationRecall, rep.Calibration.Threshold)
	if len(rep.Gates) == 0 {
		t.Fatal("the sample suite has no gates")
	}
	for _, g := range rep.Gates {
		if !g.Passed {
			t.Errorf("gate %s: %.3f, minimum %.3f", g.Name, g.Actual, g.Min)
		}
	}
	// The reports are written and the HTML carries the chart.
	dir := t.TempDir()
	if err := evals.WriteFiles(dir, rep); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !contains(html, "<svg") || !contains(html, "<polyline") {
		t.Fatalf("report.html lacks the precision-coverage chart (err %v)", err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// sampleRunner returns the sample suite and a runner over db with the
// engine the API uses (local embedder, language detector), loading the
// knowledge without training a classifier.
func sampleRunner(t *testing.T, db *postgres.DB) (*evals.Suite, *evals.Runner) {
	t.Helper()
	return suiteRunner(t, db, "suites/sample/suite.json", false)
}

// suiteRunner is sampleRunner for the suite at path; with train, the
// knowledge service trains the workspace's classifier after loading, as
// parley eval's does.
func suiteRunner(t *testing.T, db *postgres.DB, path string, train bool) (*evals.Suite, *evals.Runner) {
	t.Helper()
	suite, err := evals.LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	embedder := retrieval.NewLocal()
	engine := reply.New(db, embedder, reply.Options{Language: reply.NewLanguageDetector(), Classifiers: db, Calibrations: db, Logger: log})
	var trainer knowledge.Trainer
	if train {
		trainer = retrieval.NewTrainer(db, retrieval.TrainOptions{})
	}
	pipe := ingest.NewPipeline(db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{}))
	return suite, evals.NewRunner(db, engine, knowledge.New(db, pipe, trainer, embedder.Model(), log).WithCalibrator(engine), log)
}
