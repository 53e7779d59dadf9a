package evals_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// writeSuite writes a suite of the knowledge CSV and the cases JSONL into
// a temporary folder and returns its manifest's path.
func writeSuite(t *testing.T, knowledge, cases string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"suite.json":  `{"name": "labels", "knowledge": [{"path": "faq.csv", "kind": "faq"}], "cases": {"path": "cases.jsonl"}}`,
		"faq.csv":     knowledge,
		"cases.jsonl": cases,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "suite.json")
}

// Cases expecting an intent or a source the knowledge does not have fail
// the run before it starts, unless allowed; then the report lists them.
func TestUnknownLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	path := writeSuite(t, "id,question,answer,intent\nrefund,Can I get my money back?,Yes within 30 days.,refunds\nship,How long does delivery take?,Three days.,delivery\n",
		`{"id": "ok", "query": "money back?", "intent": "Refunds"}
{"id": "typo", "query": "money back?", "intent": "refund"}
{"id": "gone", "query": "how long?", "source_ids": ["ship", "shipping"]}
{"id": "out", "query": "tell me a joke", "escalate": true}
`)
	suite, runner := suiteRunner(t, db, path, false)
	ws := pgtest.Workspace(t).Name
	_, err := runner.Run(ctx, suite, evals.Options{Workspace: ws})
	if err == nil || !strings.Contains(err.Error(), "case typo expects intent refund") ||
		!strings.Contains(err.Error(), "case gone expects source shipping") || !strings.Contains(err.Error(), "--allow-unknown-labels") {
		t.Fatalf("run with unknown labels: %v", err)
	}
	rep, err := runner.Run(ctx, suite, evals.Options{Workspace: ws, AllowUnknownLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []evals.UnknownLabel{{Case: "typo", Label: "intent refund"}, {Case: "gone", Label: "source shipping"}}
	if len(rep.UnknownLabels) != 2 || rep.UnknownLabels[0] != want[0] || rep.UnknownLabels[1] != want[1] {
		t.Fatalf("unknown labels %v, want %v", rep.UnknownLabels, want)
	}
	if rep.LabelledOnly {
		t.Fatal("knowledge with answers reported as labelled examples only")
	}
}

// Knowledge of labelled questions without answer texts is said to be so.
func TestLabelledOnlyKnowledge(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	path := writeSuite(t, "question,intent\nCan I get my money back?,refunds\nHow long does delivery take?,delivery\n",
		`{"id": "ok", "query": "can i get my money back", "intent": "refunds"}`+"\n")
	suite, runner := suiteRunner(t, db, path, false)
	rep, err := runner.Run(context.Background(), suite, evals.Options{Workspace: pgtest.Workspace(t).Name})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.LabelledOnly || rep.Decisions.AnsweredShare != 0 {
		t.Fatalf("labelled only %v, answered %.3f; want true and 0", rep.LabelledOnly, rep.Decisions.AnsweredShare)
	}
}
