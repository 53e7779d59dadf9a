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
