package evals

import (
	"cmp"
	"math"
	"regexp"
	"sort"
	"time"

	"github.com/parleyhq/parley"
)

var nonName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Outcome is what happened to one case.
type Outcome struct {
	Case       Case             `json:"case"`
	Status     string           `json:"status"`
	Reason     string           `json:"reason,omitempty"`
	Confidence float64          `json:"confidence"`
	Language   string           `json:"language"`
	LatencyMS  float64          `json:"latency_ms"`
	Forced     bool             `json:"forced"`     // escalated whatever the score
	Answerable bool             `json:"answerable"` // the threshold decided it (see reply.Decision.Scored)
	Rank       int              `json:"rank"`       // of the expected answer among the candidates, 0 if absent
	TopCorrect bool             `json:"top_correct"`
	Correct    bool             `json:"correct"`
	Top        []CandidateBrief `json:"top"`
}

// CandidateBrief is a candidate as a report shows it.
type CandidateBrief struct {
	Label      string  `json:"label"`
	Score      float64 `json:"score"`
	Similarity float64 `json:"similarity"`
	Prior      float64 `json:"prior,omitempty"`
	Answer     string  `json:"answer"`
}

// Report is the result of a run; its JSON form is report.json.
type Report struct {
	Suite     string    `json:"suite"`
	Workspace string    `json:"workspace"`
	RanAt     time.Time `json:"ran_at"`
	// Version is the binary that ran the suite and Embedder its embedding
	// model, when the caller says (parley eval does).
	Version        string      `json:"version,omitempty"`
	Embedder       string      `json:"embedder,omitempty"`
	Cases          int         `json:"cases"`
	InScope        int         `json:"in_scope"`
	MustEscal      int         `json:"must_escalate"`
	SmallTalkCases int         `json:"small_talk_cases,omitempty"`
	Elapsed        string      `json:"elapsed"`
	Threshold      float64     `json:"answer_threshold"`
	Retrieval      Retrieval   `json:"retrieval"`
	Decisions      Decisions   `json:"decisions"`
	Calibration    Calibration `json:"calibration"`
	Latency        Latency     `json:"latency_ms"`
	Worst          Worst       `json:"worst"`
	Gates          []GateCheck `json:"gates"`
	Outcomes       []Outcome   `json:"outcomes"`
	// LabelledOnly: the knowledge has example questions but no answer
	// texts, so at the threshold every case escalates (no_match); the
	// calibration shows what answering would reach.
	LabelledOnly bool `json:"labelled_examples_only"`
	// UnknownLabels are the expected intents and source ids of cases that
	// the knowledge does not have (a run fails on them unless allowed).
	UnknownLabels []UnknownLabel `json:"unknown_labels,omitempty"`
}

// UnknownLabel is a case's expected answer that is not in the knowledge.
type UnknownLabel struct {
	Case  string `json:"case"`
	Label string `json:"label"` // "intent X" or "source X"
}

// Retrieval measures where the expected answer ranks, over in-scope cases.
type Retrieval struct {
	HitAt1 float64 `json:"hit_at_1"`
	HitAt5 float64 `json:"hit_at_5"`
	MRR    float64 `json:"mrr"`
}

// Decisions measure what the engine did at the configured threshold.
type Decisions struct {
	AnsweredShare    float64 `json:"answered_share"`
	Precision        float64 `json:"precision"`
	Coverage         float64 `json:"coverage"` // answered and correct, share of in-scope cases
	EscalationRecall float64 `json:"escalation_recall"`
	// SmallTalk is the share of small-talk cases answered as small talk
	// (0 when the suite has none).
	SmallTalk        float64        `json:"small_talk"`
	FalseEscalations int            `json:"false_escalations"`
	Reasons          map[string]int `json:"reasons"`
	ReasonAgreement  float64        `json:"reason_agreement"` // of must-escalate cases with an expected reason
}

// Calibration relates the confidence to precision.
type Calibration struct {
	TargetPrecision float64      `json:"target_precision"`
	Reachable       bool         `json:"reachable"` // some threshold reaches the target
	Threshold       float64      `json:"threshold"` // lowest threshold reaching the target (-1 if none does)
	Coverage        float64      `json:"coverage"`  // answered-and-correct share of in-scope cases at Threshold
	Precision       float64      `json:"precision"` // at Threshold
	AUROC           *float64     `json:"auroc"`     // of confidence for a correct top answer; null when undefined
	Monotonic       float64      `json:"monotonic"` // share of curve steps where precision does not fall as the threshold rises
	Best            *CurvePoint  `json:"best"`      // the highest precision reached (then the most coverage); nil without a curve
	Curve           []CurvePoint `json:"curve"`
}

// CurvePoint is precision and coverage when answering at Threshold.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Coverage  float64 `json:"coverage"`
	Answered  int     `json:"answered"`
}

// Latency of the engine per case, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// Worst are the cases a person should read first: the most confident
// wrong answers, and every in-scope case that was escalated (with its
// reason and whether the top candidate was right).
type Worst struct {
	ConfidentlyWrong    []Outcome `json:"confidently_wrong"`
	NeedlessEscalations []Outcome `json:"needless_escalations"`
}

// GateCheck is one gate's verdict.
type GateCheck struct {
	Name   string  `json:"name"`
	Min    float64 `json:"min"`
	Actual float64 `json:"actual"`
	Passed bool    `json:"passed"`
}

// Passed reports whether every gate passed.
func (r *Report) Passed() bool {
	for _, g := range r.Gates {
		if !g.Passed {
			return false
		}
	}
	return true
}

func buildReport(s *Suite, ws parley.Workspace, outs []Outcome, target float64) *Report {
	r := &Report{Suite: s.Name, Workspace: ws.Name, Cases: len(outs), Threshold: ws.Settings.AnswerThreshold, Outcomes: outs}
	r.Retrieval, r.InScope = retrievalMetrics(outs)
	r.Decisions, r.MustEscal = decisionMetrics(outs, r.InScope)
	for _, o := range outs {
		if o.Case.SmallTalk {
			r.SmallTalkCases++
		}
	}
	r.Calibration = calibrate(outs, r.InScope, target)
	r.Latency = latency(outs)
	r.Worst = worst(outs)
	r.Gates = checkGates(s.Gates, r)
	return r
}

func retrievalMetrics(outs []Outcome) (Retrieval, int) {
	var m Retrieval
	n := 0
	for _, o := range outs {
		if !o.Case.inScope() {
			continue
		}
		n++
		if o.Rank == 1 {
			m.HitAt1++
		}
		if o.Rank >= 1 && o.Rank <= 5 {
			m.HitAt5++
		}
		if o.Rank > 0 {
			m.MRR += 1 / float64(o.Rank)
		}
	}
	return Retrieval{HitAt1: ratio(m.HitAt1, n), HitAt5: ratio(m.HitAt5, n), MRR: ratio(m.MRR, n)}, n
}

func decisionMetrics(outs []Outcome, inScope int) (Decisions, int) {
	d := Decisions{Reasons: map[string]int{}}
	var answered, correctAnswers, mustEsc, escalatedMust, withReason, reasonAgree, talk, talkRight float64
	for _, o := range outs {
		if o.Status == "answered" {
			answered++
			if o.Correct {
				correctAnswers++
			}
		} else {
			d.Reasons[o.Reason]++
		}
		if o.Case.SmallTalk {
			talk++
			if o.Correct {
				talkRight++
			}
			continue
		}
		if o.Case.inScope() {
			if o.Status != "answered" {
				d.FalseEscalations++
			}
			continue
		}
		mustEsc++
		if o.Status != "answered" {
			escalatedMust++
			if o.Case.Reason != "" {
				withReason++
				if o.Case.Reason == o.Reason {
					reasonAgree++
				}
			}
		}
	}
	d.AnsweredShare = ratio(answered, len(outs))
	d.Precision = ratio(correctAnswers, int(answered))
	d.Coverage = ratio(correctAnswers, inScope)
	d.EscalationRecall = ratio(escalatedMust, int(mustEsc))
	d.ReasonAgreement = ratio(reasonAgree, int(withReason))
	d.SmallTalk = ratio(talkRight, int(talk))
	return d, int(mustEsc)
}

// calibrate sweeps the threshold over the confidences of the cases a
// threshold decides (not forced, not "no match") and finds the lowest one
// whose answers reach the target precision.
func calibrate(outs []Outcome, inScope int, target float64) Calibration {
	c := Calibration{TargetPrecision: target, Threshold: -1}
	var pool []Outcome
	for _, o := range outs {
		if o.Answerable {
			pool = append(pool, o)
		}
	}
	sort.SliceStable(pool, func(i, j int) bool { return pool[i].Confidence > pool[j].Confidence })
	correct := 0
	for i, o := range pool {
		if o.Case.inScope() && o.TopCorrect {
			correct++
		}
		if i+1 < len(pool) && pool[i+1].Confidence == o.Confidence {
			continue // ties answer together
		}
		c.Curve = append(c.Curve, CurvePoint{
			Threshold: o.Confidence, Precision: round3(ratio(float64(correct), i+1)),
			Coverage: round3(ratio(float64(correct), inScope)), Answered: i + 1,
		})
	}
	for i, p := range c.Curve { // lowest threshold first wins: walk all
		if p.Precision >= target {
			c.Reachable = true
			c.Threshold, c.Coverage, c.Precision = p.Threshold, p.Coverage, p.Precision
		}
		if c.Best == nil || p.Precision > c.Best.Precision || p.Precision == c.Best.Precision && p.Coverage > c.Best.Coverage {
			c.Best = &c.Curve[i]
		}
	}
	if c.Best != nil {
		best := *c.Best // not into the curve, which thin may drop
		c.Best = &best
	}
	c.AUROC = auroc(pool)
	c.Monotonic = round3(monotonic(c.Curve))
	c.Curve = thin(c.Curve, 200)
	return c
}

// auroc is the probability that a correct top answer has a higher
// confidence than a wrong one (ties count half); nil without both kinds.
func auroc(pool []Outcome) *float64 {
	var pos, neg []float64
	for _, o := range pool {
		if o.Case.inScope() && o.TopCorrect {
			pos = append(pos, o.Confidence)
		} else {
			neg = append(neg, o.Confidence)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return nil
	}
	sort.Float64s(neg)
	var sum float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(neg, p)
		hi := sort.Search(len(neg), func(i int) bool { return neg[i] > p })
		sum += float64(lo) + float64(hi-lo)/2
	}
	a := round3(sum / float64(len(pos)*len(neg)))
	return &a
}

// monotonic is the share of steps down the thresholds (from high to low)
// where precision does not rise: calibrated confidence loses precision as
// it admits less confident answers. Early points (few answers) are noisy,
// so steps start once 20 answers are in.
func monotonic(curve []CurvePoint) float64 {
	steps, good := 0, 0
	for i := 1; i < len(curve); i++ {
		if curve[i-1].Answered < 20 {
			continue
		}
		steps++
		if curve[i].Precision <= curve[i-1].Precision+1e-9 {
			good++
		}
	}
	return ratio(float64(good), steps)
}

// thin keeps at most n points of a curve, evenly spread, with the ends.
func thin(curve []CurvePoint, n int) []CurvePoint {
	if len(curve) <= n {
		return curve
	}
	out := make([]CurvePoint, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, curve[i*(len(curve)-1)/(n-1)])
	}
	return out
}

func latency(outs []Outcome) Latency {
	ms := make([]float64, len(outs))
	for i, o := range outs {
		ms[i] = o.LatencyMS
	}
	sort.Float64s(ms)
	if len(ms) == 0 {
		return Latency{}
	}
	return Latency{P50: round3(Percentile(ms, 0.50)), P95: round3(Percentile(ms, 0.95)), Max: round3(ms[len(ms)-1])}
}

// Percentile is the p-th percentile (p in [0, 1]), by nearest rank, of
// sorted, which must be in ascending order; the zero value when it is
// empty.
func Percentile[T cmp.Ordered](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// worstShown is how many confidently wrong answers a report lists.
const worstShown = 10

func worst(outs []Outcome) Worst {
	var w Worst
	for _, o := range outs {
		switch {
		case o.Status == "answered" && !o.Correct:
			w.ConfidentlyWrong = append(w.ConfidentlyWrong, o)
		case o.Status != "answered" && o.Case.inScope(), o.Case.SmallTalk && !o.Correct:
			w.NeedlessEscalations = append(w.NeedlessEscalations, o)
		}
	}
	byConf := func(s []Outcome) {
		sort.SliceStable(s, func(i, j int) bool { return s[i].Confidence > s[j].Confidence })
	}
	byConf(w.ConfidentlyWrong)
	byConf(w.NeedlessEscalations)
	w.ConfidentlyWrong = w.ConfidentlyWrong[:min(len(w.ConfidentlyWrong), worstShown)]
	return w
}

func checkGates(g Gates, r *Report) []GateCheck {
	var out []GateCheck
	add := func(name string, min *float64, actual float64) {
		if min != nil {
			out = append(out, GateCheck{Name: name, Min: *min, Actual: actual, Passed: actual >= *min})
		}
	}
	add("min_precision", g.MinPrecision, r.Decisions.Precision)
	add("min_coverage", g.MinCoverage, r.Decisions.Coverage)
	add("min_escalation_recall", g.MinEscalationRecall, r.Decisions.EscalationRecall)
	add("min_hit_at_1", g.MinHitAt1, r.Retrieval.HitAt1)
	return out
}

func ratio(a float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return round3(a / float64(n))
}

func round3(x float64) float64 {
	return math.Round(x*1000) / 1000
}
