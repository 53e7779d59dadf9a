package parley

import "time"

// EvalRun is the record of one run of an eval suite, kept with a workspace
// so that its console can show how quality moves from run to run: the
// figures, the gates and the cases that failed (the worst first).
type EvalRun struct {
	ID    int64     `json:"id"`
	Suite string    `json:"suite"`
	RanAt time.Time `json:"ran_at"`
	// CreatedAt is when the run was stored.
	CreatedAt time.Time `json:"created_at"`
	// Version is the parley binary that ran it, Embedder its embedding
	// model ("" when the report does not say).
	Version  string `json:"version"`
	Embedder string `json:"embedder"`
	// EvalWorkspace is the workspace the suite's knowledge was loaded into.
	EvalWorkspace string      `json:"eval_workspace"`
	Passed        bool        `json:"passed"`
	Figures       EvalFigures `json:"figures"`
	Gates         []EvalGate  `json:"gates"`
	// FailureCount counts every failed case; Failures are the worst
	// MaxEvalFailures of them (read with one run, not in lists).
	FailureCount int           `json:"failure_count"`
	Failures     []EvalFailure `json:"failures,omitempty"`
}

// MaxEvalFailures is how many failed cases a stored run keeps.
const MaxEvalFailures = 50

// EvalFigures are a run's measures (shares in [0, 1]).
type EvalFigures struct {
	Cases            int      `json:"cases"`
	InScope          int      `json:"in_scope"`
	MustEscalate     int      `json:"must_escalate"`
	AnswerThreshold  float64  `json:"answer_threshold"`
	AnsweredShare    float64  `json:"answered_share"`
	Precision        float64  `json:"precision"`
	Coverage         float64  `json:"coverage"`
	EscalationRecall float64  `json:"escalation_recall"`
	HitAt1           float64  `json:"hit_at_1"`
	HitAt5           float64  `json:"hit_at_5"`
	MRR              float64  `json:"mrr"`
	AUROC            *float64 `json:"auroc"`
	TargetPrecision  float64  `json:"target_precision"`
	// CalibratedThreshold is the lowest threshold reaching TargetPrecision
	// on the suite, with its coverage; nil when none does.
	CalibratedThreshold *float64 `json:"calibrated_threshold"`
	CalibratedCoverage  *float64 `json:"calibrated_coverage"`
	LatencyP50MS        float64  `json:"latency_p50_ms"`
	LatencyP95MS        float64  `json:"latency_p95_ms"`
}

// EvalGate is one of the suite's gates and how the run did on it.
type EvalGate struct {
	Name   string  `json:"name"`
	Min    float64 `json:"min"`
	Actual float64 `json:"actual"`
	Passed bool    `json:"passed"`
}

// Kinds of failed eval cases.
const (
	EvalWrongAnswer        = "wrong_answer"        // answered, with the wrong answer
	EvalMissedEscalation   = "missed_escalation"   // answered what should have gone to a person
	EvalNeedlessEscalation = "needless_escalation" // escalated what the knowledge answers
)

// EvalFailure is one case the run got wrong.
type EvalFailure struct {
	Case       string  `json:"case"`
	Question   string  `json:"question"`
	Kind       string  `json:"kind"`
	Expected   string  `json:"expected"`
	Got        string  `json:"got"`
	Confidence float64 `json:"confidence"`
}
