package evals

import (
	"cmp"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Limits on a report kept as a run (Record).
const (
	maxSuiteName  = 200
	maxLabelChars = 200
	maxTextChars  = 1000
)

// Record is the report as a run to keep with a workspace: its figures,
// gates and the worst failed cases (the confidently wrong answers first,
// then the needless escalations, each by confidence). A report read from
// elsewhere (an upload) is checked first: EInvalid says what is wrong.
// Without a time it is dated now.
func (r *Report) Record() (parley.EvalRun, error) {
	if err := r.check(); err != nil {
		return parley.EvalRun{}, err
	}
	c := r.Calibration
	run := parley.EvalRun{
		Suite: r.Suite, RanAt: r.RanAt, Version: clip(r.Version, maxLabelChars), Embedder: clip(r.Embedder, maxLabelChars),
		EvalWorkspace: clip(r.Workspace, maxLabelChars), Passed: r.Passed(),
		Figures: parley.EvalFigures{
			Cases: r.Cases, InScope: r.InScope, MustEscalate: r.MustEscal, AnswerThreshold: r.Threshold,
			AnsweredShare: r.Decisions.AnsweredShare, Precision: r.Decisions.Precision, Coverage: r.Decisions.Coverage,
			EscalationRecall: r.Decisions.EscalationRecall, HitAt1: r.Retrieval.HitAt1, HitAt5: r.Retrieval.HitAt5,
			MRR: r.Retrieval.MRR, AUROC: c.AUROC, TargetPrecision: c.TargetPrecision,
			LatencyP50MS: r.Latency.P50, LatencyP95MS: r.Latency.P95,
		},
		Gates: []parley.EvalGate{},
	}
	if run.RanAt.IsZero() {
		run.RanAt = time.Now().UTC().Truncate(time.Second)
	}
	if c.Reachable {
		run.Figures.CalibratedThreshold, run.Figures.CalibratedCoverage = &c.Threshold, &c.Coverage
	}
	for _, g := range r.Gates {
		run.Gates = append(run.Gates, parley.EvalGate{Name: clip(g.Name, maxLabelChars), Min: g.Min, Actual: g.Actual, Passed: g.Passed})
	}
	run.Failures, run.FailureCount = failures(r)
	return run, nil
}

// failures are the report's failed cases, the worst parley.MaxEvalFailures
// of them, and how many there are. A report without its outcomes (trimmed
// before an upload) has its Worst lists.
func failures(r *Report) ([]parley.EvalFailure, int) {
	outs := r.Outcomes
	if len(outs) == 0 {
		outs = append(slices.Clone(r.Worst.ConfidentlyWrong), r.Worst.NeedlessEscalations...)
	}
	var wrong, needless []parley.EvalFailure
	for _, o := range outs {
		f := parley.EvalFailure{Case: clip(o.Case.ID, maxLabelChars), Question: clip(o.Case.Question(), maxTextChars),
			Expected: clip(expected(o), maxTextChars), Confidence: o.Confidence}
		if o.Case.SmallTalk {
			f.Expected = "small talk"
		}
		switch {
		case o.Status == "answered" && !o.Correct:
			f.Kind, f.Got = parley.EvalWrongAnswer, "answered"
			if len(o.Top) > 0 {
				f.Got = clip(o.Top[0].Label, maxTextChars)
			}
			if !o.Case.inScope() {
				f.Kind = parley.EvalMissedEscalation
			}
			wrong = append(wrong, f)
		case o.Status != "answered" && o.Case.inScope(), o.Case.SmallTalk && !o.Correct:
			f.Kind, f.Got = parley.EvalNeedlessEscalation, "escalate"
			if o.Reason != "" {
				f.Got += " (" + clip(o.Reason, maxLabelChars) + ")"
			}
			needless = append(needless, f)
		}
	}
	byConfidence := func(a, b parley.EvalFailure) int { return cmp.Compare(b.Confidence, a.Confidence) }
	slices.SortStableFunc(wrong, byConfidence)
	slices.SortStableFunc(needless, byConfidence)
	all := append(wrong, needless...)
	if all == nil {
		all = []parley.EvalFailure{}
	}
	return all[:min(len(all), parley.MaxEvalFailures)], len(all)
}

// check refuses a report that is not one: no suite, no cases, shares
// outside [0, 1].
func (r *Report) check() error {
	switch {
	case r.Suite == "" || utf8.RuneCountInString(r.Suite) > maxSuiteName:
		return parley.Errorf(parley.EInvalid, "suite: want the suite's name (1 to %d characters)", maxSuiteName)
	case r.Cases <= 0:
		return parley.Errorf(parley.EInvalid, "cases: want the number of cases run, at least 1")
	case r.InScope < 0 || r.MustEscal < 0 || r.SmallTalkCases < 0 || r.InScope+r.MustEscal+r.SmallTalkCases > r.Cases:
		return parley.Errorf(parley.EInvalid, "in_scope, must_escalate and small_talk_cases: want counts adding up to at most cases")
	case len(r.Gates) > 100:
		return parley.Errorf(parley.EInvalid, "gates: at most 100")
	}
	shares := map[string]float64{
		"decisions.precision": r.Decisions.Precision, "decisions.coverage": r.Decisions.Coverage,
		"decisions.escalation_recall": r.Decisions.EscalationRecall, "decisions.answered_share": r.Decisions.AnsweredShare,
		"retrieval.hit_at_1": r.Retrieval.HitAt1, "retrieval.hit_at_5": r.Retrieval.HitAt5, "retrieval.mrr": r.Retrieval.MRR,
		"calibration.target_precision": r.Calibration.TargetPrecision, "calibration.coverage": r.Calibration.Coverage,
	}
	if r.Calibration.AUROC != nil {
		shares["calibration.auroc"] = *r.Calibration.AUROC
	}
	for name, v := range shares {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return parley.Errorf(parley.EInvalid, "%s: %v is not a share between 0 and 1", name, v)
		}
	}
	return nil
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
