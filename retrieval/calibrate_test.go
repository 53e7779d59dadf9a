package retrieval_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/retrieval"
)

func TestFitThreshold(t *testing.T) {
	t.Parallel()
	o := func(conf float64, right bool) retrieval.ProbeOutcome {
		return retrieval.ProbeOutcome{Confidence: conf, Correct: right, Similarity: 0.5}
	}
	out := func(conf, sim float64) retrieval.ProbeOutcome {
		return retrieval.ProbeOutcome{OutOfScope: true, Confidence: conf, Similarity: sim}
	}
	// Twenty right answers from 0.99 down to 0.80, then a wrong one at
	// 0.75, then mixed: the bar is at 0.80 (20/20), lower still at 0.70
	// (20/21 ≈ 0.952 >= 0.95 with 0.72 right: 21/22 = 0.955).
	var outs []retrieval.ProbeOutcome
	for i := range 20 {
		outs = append(outs, o(0.99-float64(i)*0.01, true))
	}
	outs = append(outs, o(0.75, false), o(0.72, true), out(0.5, 0.3), out(0.4, 0.1), out(0, 0.2), o(0, true))
	c := retrieval.FitThreshold(outs, 0.95)
	if c.Threshold != 0.72 || c.Precision < 0.95 || c.Coverage != 21.0/23 || c.Positives != 23 || c.Negatives != 3 {
		t.Errorf("got %+v, want threshold 0.72 at precision 21/22 and coverage 21/23", c)
	}
	if c.MinSimilarity != 0.2 {
		t.Errorf("no-match floor %.3f, want 0.2 (the out-of-scope questions' median similarity)", c.MinSimilarity)
	}
	// A confident answer to a question under the floor is no answer: it
	// finds no match.
	far := append(outs, out(0.95, 0.05), out(0.95, 0.06))
	if c := retrieval.FitThreshold(far, 0.95); c.Threshold != 0.72 || c.MinSimilarity != 0.1 {
		t.Errorf("with confident answers under the floor: %+v, want threshold 0.72, floor 0.1", c)
	}
	// An embedder that cannot tell answers apart: never.
	junk := []retrieval.ProbeOutcome{o(0.9, false), o(0.85, true), o(0.8, false), o(0.8, false), o(0.7, false), o(0.6, true)}
	if c := retrieval.FitThreshold(junk, 0.95); c.Threshold <= 1 {
		t.Errorf("junk: threshold %.3f, want none (above 1)", c.Threshold)
	}
	// Too few answers say nothing: one right answer at the top is not a bar.
	if c := retrieval.FitThreshold([]retrieval.ProbeOutcome{o(0.9, true), out(0.5, 0), out(0.4, 0)}, 0.95); c.Threshold <= 1 {
		t.Errorf("one answer: threshold %.3f, want none", c.Threshold)
	}
}

// Questions on the workspace's subject that its knowledge does not cover
// go to a neighbouring answer with confidence, but from farther away than
// the answer's own questions: the fit answers them no more often than
// 1-target, with the similarity bar where the confidence alone would cost
// most of the coverage.
func TestFitThresholdOffSubject(t *testing.T) {
	t.Parallel()
	own := func(conf, sim float64, right bool) retrieval.ProbeOutcome {
		return retrieval.ProbeOutcome{Confidence: conf, Similarity: sim, Correct: right}
	}
	off := func(conf, sim float64) retrieval.ProbeOutcome {
		return retrieval.ProbeOutcome{OffSubject: true, Confidence: conf, Similarity: sim}
	}
	var outs []retrieval.ProbeOutcome
	// Twenty right answers, confident and near (similarity 0.80-0.99), and
	// ten confident but farther (0.60-0.69), right too.
	for i := range 20 {
		outs = append(outs, own(0.99-float64(i)*0.002, 0.99-float64(i)*0.01, true))
	}
	for i := range 10 {
		outs = append(outs, own(0.97, 0.69-float64(i)*0.01, true))
	}
	// Twenty off-subject questions as confident as the workspace's own,
	// all at similarity 0.70-0.79; two more at 0.85.
	for i := range 20 {
		outs = append(outs, off(0.99-float64(i)*0.001, 0.79-float64(i)*0.005))
	}
	outs = append(outs, off(0.99, 0.85), off(0.98, 0.85))
	c := retrieval.FitThreshold(outs, 0.95)
	// Confidence alone cannot keep off-subject questions out; similarity
	// 0.80 does, and answers all twenty near questions; the two at 0.85
	// are 2/22 > 5% answered, so the bar rises above them: 0.86, 14 right.
	if c.AnswerSimilarity != 0.86 || c.OffSubject != 22 || c.EscalationRecall != 1 {
		t.Errorf("got %+v, want similarity bar 0.86 and every off-subject question escalated", c)
	}
	if c.Coverage != 14.0/30 || c.Precision != 1 {
		t.Errorf("coverage %.3f precision %.3f, want 14/30 and 1", c.Coverage, c.Precision)
	}
	// One off-subject question in 21 answered is 4.8%, under 5%, but
	// within the noise of so few: the bar stays above it.
	outs = outs[:len(outs)-1]
	if c := retrieval.FitThreshold(outs, 0.95); c.AnswerSimilarity != 0.86 || c.EscalationRecall != 1 {
		t.Errorf("with one near off-subject question in 21: %+v, want similarity bar 0.86, every one escalated", c)
	}
	// Among 81 (sixty more, far and escalated anyway), one answered is
	// 1.2% with room for the noise: similarity 0.80 answers the twenty near
	// questions again.
	many := slices.Clone(outs)
	for range 60 {
		many = append(many, off(0.1, 0.3))
	}
	if c := retrieval.FitThreshold(many, 0.95); c.AnswerSimilarity != 0.80 || c.EscalationRecall < 0.95 || c.Coverage != 20.0/30 {
		t.Errorf("with one near off-subject question in 81: %+v, want similarity bar 0.80, coverage 20/30", c)
	}
	// The off-subject questions of one missing answer group share one
	// vote: the near one at 0.85 as one of four phrasings of its group
	// (the others escalated) counts a quarter, 0.25 of 21 groups, within
	// the bound; alone in its group it did not (above).
	shared := slices.Clone(outs)
	shared[len(shared)-1].Weight = 0.25
	for range 3 {
		shared = append(shared, retrieval.ProbeOutcome{OffSubject: true, Confidence: 0.1, Similarity: 0.3, Weight: 0.25})
	}
	if c := retrieval.FitThreshold(shared, 0.95); c.AnswerSimilarity != 0.80 {
		t.Errorf("with the near question a quarter of its group: %+v, want similarity bar 0.80", c)
	}
	// Without off-subject questions the similarity bar stays at 0 when it
	// would not add a right answer.
	var plain []retrieval.ProbeOutcome
	for _, o := range outs {
		if !o.OffSubject {
			plain = append(plain, o)
		}
	}
	if c := retrieval.FitThreshold(plain, 0.95); c.AnswerSimilarity != 0 || c.Coverage != 1 {
		t.Errorf("without off-subject questions: %+v, want similarity bar 0, everything answered", c)
	}
}
