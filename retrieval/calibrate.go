package retrieval

import (
	"cmp"
	"slices"
	"time"
)

// Calibration is a workspace's answer threshold fitted to its own
// knowledge and one embedding model: the confidence scale means different
// things with different embedders and knowledge, so the bar is measured,
// not assumed.
type Calibration struct {
	// Threshold is the lowest confidence from which on the answers to the
	// probes reach Target precision; above 1 when none does (the
	// embedder cannot tell the workspace's answers apart).
	Threshold float64
	Target    float64
	// MinSimilarity is the nearest-hit similarity under which a question
	// finds nothing in the knowledge (no match): the similarity the
	// typical out-of-scope probe reaches with this embedder and knowledge
	// (their median). 0 when it was not fitted.
	MinSimilarity float64
	// Positives are the workspace's own questions asked (each with its
	// own chunk left out), Negatives the out-of-scope questions.
	Positives, Negatives int
	// Precision and Coverage are those of the probes at Threshold:
	// right answers among answers, right answers among Positives.
	Precision, Coverage float64
	FittedAt            time.Time
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
// out-of-scope question has no right answer), and the similarity of the
// nearest hit whatever was decided.
type ProbeOutcome struct {
	OutOfScope bool
	Confidence float64
	Correct    bool
	Similarity float64
}

// minAnswered is the fewest answers a threshold must give for its
// precision to count: one or two right answers say little.
const minAnswered = 5

// FitThreshold returns the calibration of the outcomes. Its
// MinSimilarity is the median nearest-hit similarity of the out-of-scope
// probes; probes under it find no match, as they would when answering.
// Its Threshold is the lowest confidence at which the other probes
// answered (at least minAnswered) are target precise; never (above 1) when
// no confidence is.
func FitThreshold(outcomes []ProbeOutcome, target float64) Calibration {
	c := Calibration{Target: target, Threshold: never}
	var oos []float64
	for _, o := range outcomes {
		if o.OutOfScope {
			c.Negatives++
			oos = append(oos, o.Similarity)
		} else {
			c.Positives++
		}
	}
	if len(oos) > 0 {
		slices.Sort(oos)
		c.MinSimilarity = (oos[(len(oos)-1)/2] + oos[len(oos)/2]) / 2
	}
	matched := slices.DeleteFunc(slices.Clone(outcomes), func(o ProbeOutcome) bool { return o.Similarity < c.MinSimilarity })
	sorted := slices.SortedFunc(slices.Values(matched), func(a, b ProbeOutcome) int { return cmp.Compare(b.Confidence, a.Confidence) })
	right := 0
	for i, o := range sorted {
		if o.Correct {
			right++
		}
		n := i + 1
		if o.Confidence <= 0 || (n < len(sorted) && sorted[n].Confidence == o.Confidence) {
			continue // never answered; or a threshold answers all of a tie or none
		}
		if p := float64(right) / float64(n); p >= target && n >= minAnswered {
			c.Threshold, c.Precision = o.Confidence, p
			if c.Positives > 0 {
				c.Coverage = float64(right) / float64(c.Positives)
			}
		}
	}
	return c
}

// never is a threshold no confidence reaches.
const never = 1.01
