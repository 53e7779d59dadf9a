package evals

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenOutcomes is a small run in which no threshold reaches 95%
// precision, the most confident answer is wrong, and in-scope cases
// escalate both with and without the right top candidate.
func goldenOutcomes() []Outcome {
	cand := func(label string, score float64) []CandidateBrief {
		return []CandidateBrief{{Label: label, Score: score, Similarity: score}}
	}
	return []Outcome{
		{Case: Case{ID: "wrong", Query: "Where is my parcel?", Intent: "delivery"}, Status: "answered", Confidence: 0.95,
			Answerable: true, Rank: 2, Top: cand("refund", 0.9), LatencyMS: 3},
		{Case: Case{ID: "right", Query: "Can I get my money back?", Intent: "refund"}, Status: "answered", Confidence: 0.9,
			Answerable: true, Rank: 1, TopCorrect: true, Correct: true, Top: cand("refund", 0.8), LatencyMS: 4},
		{Case: Case{ID: "timid", Query: "refund pls", Intent: "refund"}, Status: "escalated", Reason: "low_confidence", Confidence: 0.4,
			Answerable: true, Rank: 1, TopCorrect: true, Top: cand("refund", 0.5), LatencyMS: 5},
		{Case: Case{ID: "lost", Query: "Do you sell seeds?", Intent: "seeds"}, Status: "escalated", Reason: "no_match", Confidence: 0.1,
			Top: cand("delivery", 0.2), LatencyMS: 2},
		{Case: Case{ID: "person", Query: "I want a human", Escalate: true, Reason: "human_requested"}, Status: "escalated",
			Reason: "human_requested", Forced: true, LatencyMS: 1},
	}
}

func TestReportGolden(t *testing.T) {
	s := &Suite{Name: "golden"}
	ws := parley.Workspace{Name: "eval-golden", Settings: parley.WorkspaceSettings{AnswerThreshold: 0.5}}
	r := buildReport(s, ws, goldenOutcomes(), 0.95)
	r.Elapsed = "15ms"
	r.LabelledOnly = true
	r.UnknownLabels = []UnknownLabel{{Case: "lost", Label: "intent seeds"}}

	if r.Calibration.Reachable || r.Calibration.Best == nil || r.Calibration.Best.Precision != 0.667 {
		t.Fatalf("calibration %+v, want the target not reachable and best precision 0.667", r.Calibration)
	}
	if n := len(r.Worst.NeedlessEscalations); n != 2 {
		t.Fatalf("%d needless escalations, want both in-scope escalations", n)
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.md", "report.html"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"not reachable: best precision 0.667 at threshold 0.400 (coverage 0.500)",
			"labelled example questions only", "intent seeds", "timid", "low_confidence", "no_match"} {
			if !strings.Contains(string(got), want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(string(got), "-1.000") || strings.Contains(string(got), "threshold | 0.000") {
			t.Errorf("%s shows a threshold that does not exist", name)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./evals -run TestReportGolden -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (after an intended change: go test ./evals -run TestReportGolden -update)", name, golden)
		}
	}
}

// The chart's line starts at the first correct answer, not at the (0, 0)
// of a most confident answer that was wrong.
func TestCurveStartsAtFirstRealPoint(t *testing.T) {
	c := calibrate(goldenOutcomes(), 3, 0.95)
	if p := c.Curve[0]; p.Precision != 0 || p.Coverage != 0 {
		t.Fatalf("first curve point %+v: the test needs a wrong most confident answer", p)
	}
	svg := curveSVG(c)
	_, points, _ := strings.Cut(svg, `points="`)
	first, _, _ := strings.Cut(points, " ")
	if first != "213.2,160.0" { // coverage 1/3, precision 1/2
		t.Fatalf("the line starts at %s, want 213.2,160.0 (coverage 0.333, precision 0.5)", first)
	}
}
