package evals

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestRecord(t *testing.T) {
	s := &Suite{Name: "golden", Gates: Gates{MinPrecision: new(0.9)}}
	ws := parley.Workspace{Name: "eval-golden", Settings: parley.WorkspaceSettings{AnswerThreshold: 0.5}}
	r := buildReport(s, ws, goldenOutcomes(), 0.95)
	r.Version, r.Embedder = "v1.2.3", "local-v7"
	run, err := r.Record()
	if err != nil {
		t.Fatal(err)
	}
	if run.Suite != "golden" || run.EvalWorkspace != "eval-golden" || run.Embedder != "local-v7" || run.RanAt.IsZero() || run.Passed {
		t.Errorf("run %+v: want suite, workspace, embedder, a time and the failed gate", run)
	}
	if f := run.Figures; f.Cases != 5 || f.Precision != r.Decisions.Precision || f.HitAt1 != r.Retrieval.HitAt1 || f.CalibratedThreshold != nil {
		t.Errorf("figures %+v, want the report's (no calibrated threshold: 95%% is not reached)", f)
	}
	if len(run.Gates) != 1 || run.Gates[0].Passed {
		t.Errorf("gates %+v, want min_precision failed", run.Gates)
	}
	// The confidently wrong answer first, then the two needless escalations by confidence.
	want := []struct{ id, kind, got string }{
		{"wrong", parley.EvalWrongAnswer, "refund"},
		{"timid", parley.EvalNeedlessEscalation, "escalate (low_confidence)"},
		{"lost", parley.EvalNeedlessEscalation, "escalate (no_match)"},
	}
	if run.FailureCount != len(want) || len(run.Failures) != len(want) {
		t.Fatalf("failures %+v (count %d), want %d", run.Failures, run.FailureCount, len(want))
	}
	for i, w := range want {
		if f := run.Failures[i]; f.Case != w.id || f.Kind != w.kind || f.Got != w.got {
			t.Errorf("failure %d: %+v, want %s %s got %q", i, f, w.id, w.kind, w.got)
		}
	}
	if run.Failures[0].Question != "Where is my parcel?" || run.Failures[0].Expected != "delivery" {
		t.Errorf("first failure %+v, want its question and expected intent", run.Failures[0])
	}

	// Trimmed of its outcomes, a report still names its worst cases.
	r.Outcomes = nil
	trimmed, err := r.Record()
	if err != nil {
		t.Fatal(err)
	}
	if trimmed.FailureCount != 3 || trimmed.Failures[0].Case != "wrong" {
		t.Errorf("trimmed report's failures %+v, want the 3 from its worst lists", trimmed.Failures)
	}

	for name, spoil := range map[string]func(*Report){
		"no suite":       func(r *Report) { r.Suite = "" },
		"no cases":       func(r *Report) { r.Cases = 0 },
		"precision > 1":  func(r *Report) { r.Decisions.Precision = 1.5 },
		"negative hit@1": func(r *Report) { r.Retrieval.HitAt1 = -0.1 },
		"counts":         func(r *Report) { r.InScope = 10 },
	} {
		bad := *r
		spoil(&bad)
		if _, err := bad.Record(); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
