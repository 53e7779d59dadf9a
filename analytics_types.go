package parley

import "time"

// DayCount is one per-day analytics figure of a workspace: how many events of
// a kind (Metric, with a Key such as the escalation reason) happened on a UTC
// day. The metrics are listed in package analytics.
type DayCount struct {
	Day    time.Time // midnight UTC
	Metric string
	Key    string
	N      int64
}

// UnansweredQuestion is a customer question the bot handed to a person for
// want of an answer (reasons no_match, low_confidence, unhelpful).
type UnansweredQuestion struct {
	Text     string
	Language string
	Reason   string
	At       time.Time
	// Nearest is the best existing knowledge the bot found (title or
	// external id of its first source; "" for none) and its similarity.
	Nearest           string
	NearestSimilarity float64
	// Resolution is the agent's reply that resolved the handoff ("" while
	// unresolved).
	Resolution string
}
