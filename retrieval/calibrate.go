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

// ProbeOutcome is the engine's best answer to a probe: its confidence and
// whether it is right (an out-of-scope question has no right answer).
type ProbeOutcome struct {
	Confidence float64
	Correct    bool
}

// minAnswered is the fewest answers a threshold must give for its
// precision to count: one or two right answers say little.
const minAnswered = 5

// FitThreshold returns the calibration of the outcomes of positives
// positive probes (the rest are out-of-scope ones): the lowest confidence
// at which the probes answered (at least minAnswered) are target precise.
// Never (above 1) when no confidence is.
func FitThreshold(outcomes []ProbeOutcome, positives int, target float64) Calibration {
	c := Calibration{Target: target, Positives: positives, Negatives: len(outcomes) - positives, Threshold: never}
	sorted := slices.SortedFunc(slices.Values(outcomes), func(a, b ProbeOutcome) int { return cmp.Compare(b.Confidence, a.Confidence) })
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
			if positives > 0 {
				c.Coverage = float64(right) / float64(positives)
			}
		}
	}
	return c
}

// never is a threshold no confidence reaches.
const never = 1.01
