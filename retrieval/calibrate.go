package retrieval

import (
	"math"
	"slices"
	"time"
)

// Calibration is a workspace's answer bars fitted to its own knowledge
// and one embedding model: the confidence and similarity scales mean
// different things with different embedders and knowledge, so the bars
// are measured, not assumed.
type Calibration struct {
	// Threshold is the lowest confidence the engine answers at; above 1
	// when no bar reaches Target (the embedder cannot tell the
	// workspace's answers apart).
	Threshold float64
	// AnswerSimilarity is the lowest similarity of the best answer's
	// nearest hit the engine answers at, whatever the confidence: a
	// question on the workspace's subject that its knowledge does not
	// cover is often given to a neighbouring answer with confidence, but
	// it is farther from that answer's questions than the answer's own
	// questions are. 0 when it does not matter.
	AnswerSimilarity float64
	Target           float64
	// MinSimilarity is the nearest-hit similarity under which a question
	// finds nothing in the knowledge (no match): the similarity the
	// typical out-of-scope probe reaches with this embedder and knowledge
	// (their median). 0 when it was not fitted.
	MinSimilarity float64
	// Positives are the workspace's own questions asked (each with its
	// own chunk left out), Negatives the generic out-of-scope questions,
	// OffSubject its own questions asked with their whole answer group
	// left out (questions on its subject it does not cover).
	Positives, Negatives, OffSubject int
	// Precision and Coverage are those of the probes at the bars: right
	// answers among answers, right answers among Positives.
	// EscalationRecall is the share of the probes that must escalate
	// (Negatives and OffSubject) not answered.
	Precision, Coverage, EscalationRecall float64
	FittedAt                              time.Time
}

// Probe is one of a workspace's questions with the answer group it must
// lead to, asked to calibrate.
type Probe struct {
	ChunkID  int64 // left out of the search when it is asked
	Text     string
	Vector   []float32 // Text embedded (the chunk's stored vector)
	Group    string
	Language string
}

// ProbeOutcome is the engine's best answer to a probe: its confidence (0
// when it would not answer at any threshold) and whether it is right (an
// out-of-scope or off-subject question has no right answer), and the
// similarity of the best answer's nearest hit whatever was decided.
type ProbeOutcome struct {
	// OutOfScope marks a generic question no business's knowledge
	// answers; OffSubject one of the workspace's own questions asked as
	// if its answer group were not in the knowledge. Neither may be
	// answered.
	OutOfScope, OffSubject bool
	Confidence             float64
	Correct                bool
	Similarity             float64
	// Weight is how much an off-subject question counts among those that
	// must escalate (0: 1): the questions asked of one missing answer
	// group share one vote, so that each missing topic counts once.
	Weight float64
}

// weight returns how much the outcome counts among the questions that
// must escalate.
func (o ProbeOutcome) weight() float64 {
	if o.Weight > 0 {
		return o.Weight
	}
	return 1
}

// minAnswered is the fewest answers a threshold must give for its
// precision to count: one or two right answers say little.
const minAnswered = 5

// FitThreshold returns the calibration of the outcomes. Its
// MinSimilarity is the median nearest-hit similarity of the out-of-scope
// probes; probes under it find no match, as they would when answering.
// Its bars (Threshold, AnswerSimilarity) are, among the confidences and
// similarities the workspace's own questions reach, the pair that answers
// the most of them right while the answers (to its own and the generic
// out-of-scope questions, at least minAnswered) are target precise and
// at most 1-target of the questions that must escalate (out-of-scope and
// off-subject, weighted; by leakBound, with room for the noise of a
// sample) are answered: escalation recall target, above all on
// questions about the workspace's subject that its knowledge does not
// cover, which are the hard ones. Of pairs as good, the one answering the
// fewest that must escalate, then the highest confidence bar with the
// lowest similarity bar (0 when similarity adds nothing). Never (Threshold
// above 1) when no pair is.
func FitThreshold(outcomes []ProbeOutcome, target float64) Calibration {
	c := Calibration{Target: target, Threshold: never}
	var oos []float64
	for _, o := range outcomes {
		switch {
		case o.OutOfScope:
			c.Negatives++
			oos = append(oos, o.Similarity)
		case o.OffSubject:
			c.OffSubject++
		default:
			c.Positives++
		}
	}
	if len(oos) > 0 {
		slices.Sort(oos)
		c.MinSimilarity = (oos[(len(oos)-1)/2] + oos[len(oos)/2]) / 2
	}
	matched := slices.DeleteFunc(slices.Clone(outcomes), func(o ProbeOutcome) bool {
		return o.Confidence <= 0 || o.Similarity < c.MinSimilarity
	})
	var confs, sims []float64
	for _, o := range matched {
		if !o.OutOfScope && !o.OffSubject {
			confs, sims = append(confs, o.Confidence), append(sims, o.Similarity)
		}
	}
	// Confidence bars from the highest, similarity bars from none up.
	slices.Sort(confs)
	slices.Reverse(confs)
	slices.Sort(sims)
	confs, sims = slices.Compact(confs), slices.Compact(append([]float64{0}, sims...))
	mustEscalate := 0.0
	for _, o := range outcomes {
		if o.OutOfScope || o.OffSubject {
			mustEscalate += o.weight()
		}
	}
	bestRight, bestLeaked := 0, 0.0
	for _, t := range confs {
		for _, s := range sims {
			answered, right, leaked := 0, 0, 0.0
			for _, o := range matched {
				if o.Confidence < t || o.Similarity < s {
					continue
				}
				if o.OutOfScope || o.OffSubject {
					leaked += o.weight()
				}
				if o.Correct {
					right++
				}
				if !o.OffSubject {
					answered++
				}
			}
			p := float64(right) / float64(max(answered, 1))
			if answered < minAnswered || p < target || leakBound(leaked, mustEscalate) > 1-target {
				continue
			}
			if right > bestRight || (right == bestRight && leaked < bestLeaked) {
				bestRight, bestLeaked = right, leaked
				c.Threshold, c.AnswerSimilarity, c.Precision = t, s, p
			}
		}
	}
	if bestRight > 0 {
		c.Coverage = float64(bestRight) / float64(max(c.Positives, 1))
		c.EscalationRecall = 1 - bestLeaked/max(mustEscalate, 1)
	}
	return c
}

// leakZ is how many standard errors above the leaked share of the
// questions that must escalate leakBound puts its bound: 1, about an 84%
// one-sided bound.
const leakZ = 1.0

// leakBound returns the share of the questions that must escalate that
// are answered, leaked of n (weighted), plus leakZ standard errors. The
// share measured on a few dozen missing topics is a noisy estimate of the
// share among customers' questions, and the bars are chosen where it just
// meets the target: on Banking77 with intents left out, the share itself
// put escalation recall under 0.95 in 4 of 6 splits (BENCHMARKS.md). With
// the bound a bar meets the target with room for that noise, which
// shrinks as the workspace has more topics to ask about; with nothing
// answered there is no room to leave.
func leakBound(leaked, n float64) float64 {
	if n <= 0 {
		return 0
	}
	p := leaked / n
	return p + leakZ*math.Sqrt(p*(1-p)/n)
}

// never is a threshold no confidence reaches.
const never = 1.01
