// Package analytics turns a workspace's per-day counts (parley.DayCount, as
// the store keeps them) into the summary the API and the console show: per
// interval (day, week or month, in UTC), conversations, bot answers,
// handoffs by reason and team, resolution by the bot alone and after
// handoff, time to the first agent reply and to resolution, and customers'
// feedback on bot answers.
package analytics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// The metrics of parley.DayCount. Each counts events on the UTC day they
// happened.
const (
	MetricConversations          = "conversations"            // conversations started
	MetricBotAnswers             = "bot_answers"              // bot answers sent
	MetricHandoffs               = "handoffs"                 // handoffs (escalations), key: reason
	MetricHandoffsTeam           = "handoffs_team"            // handoffs, key: team id ("" = none)
	MetricHandedOffConversations = "handed_off_conversations" // conversations with a handoff that day
	MetricResolvedAfterHandoff   = "resolved_after_handoff"   // handoffs resolved
	MetricResolutionTime         = "resolution_time"          // handoff to resolution, key: Bucket
	MetricFirstReplyTime         = "first_reply_time"         // handoff to first agent reply, key: Bucket
	MetricFeedback               = "feedback"                 // verdicts on bot answers, key: helpful or not_helpful
)

// Bucket is the histogram bucket of a duration of s seconds, as the store
// computes it: floor(4·log2(s+1)). Buckets are about 19% wide, so a median
// read from them is within about 10% of the true one.
func Bucket(s float64) int { return int(math.Floor(4 * math.Log2(math.Max(s, 0)+1))) }

// bucketValue is the middle (geometric) of bucket k's range of seconds.
func bucketValue(k int) float64 {
	lo, hi := math.Exp2(float64(k)/4)-1, math.Exp2(float64(k+1)/4)-1
	if lo <= 0 {
		return hi / 2
	}
	return math.Sqrt(lo * hi)
}

// Durations describe how long something took: how many, and the median and
// 90th percentile in seconds (null when there were none).
type Durations struct {
	Count         int64    `json:"count"`
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	hist          map[int]int64
}

func (d *Durations) add(key string, n int64) {
	k, err := strconv.Atoi(key)
	if err != nil {
		return
	}
	if d.hist == nil {
		d.hist = map[int]int64{}
	}
	d.hist[k] += n
	d.Count += n
}

func (d *Durations) finish() {
	if d.Count == 0 {
		return
	}
	keys := make([]int, 0, len(d.hist))
	for k := range d.hist {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	quantile := func(q float64) *float64 {
		rank := int64(math.Ceil(q * float64(d.Count)))
		var seen int64
		for _, k := range keys {
			if seen += d.hist[k]; seen >= rank {
				v := math.Round(bucketValue(k)*10) / 10
				return &v
			}
		}
		return nil
	}
	d.MedianSeconds, d.P90Seconds = quantile(0.5), quantile(0.9)
}

// Figures are what happened in a span of time.
type Figures struct {
	Conversations int64 `json:"conversations"`
	BotAnswers    int64 `json:"bot_answers"`
	Handoffs      int64 `json:"handoffs"`
	// HandoffsByReason counts handoffs by escalation reason;
	// HandoffsByTeam by team name ("" for none, or a deleted team).
	HandoffsByReason map[string]int64 `json:"handoffs_by_reason"`
	HandoffsByTeam   map[string]int64 `json:"handoffs_by_team"`
	// HandedOff is the conversations handed to a person; ResolvedByBot the
	// conversations started that were not (Conversations - HandedOff, at
	// least 0), and DeflectionRate ResolvedByBot / Conversations.
	HandedOff            int64    `json:"handed_off_conversations"`
	ResolvedByBot        int64    `json:"resolved_by_bot"`
	DeflectionRate       *float64 `json:"deflection_rate"`
	ResolvedAfterHandoff int64    `json:"resolved_after_handoff"`
	// FirstAgentReply is the time from a handoff to the first agent reply,
	// counted on the day of the reply; TimeToResolution from a handoff to its
	// resolution, on the day of the resolution.
	FirstAgentReply  Durations `json:"first_agent_reply"`
	TimeToResolution Durations `json:"time_to_resolution"`
	// Feedback counts customers' verdicts on bot answers.
	Feedback Feedback `json:"feedback"`
}

// Feedback counts verdicts on bot answers.
type Feedback struct {
	Helpful    int64 `json:"helpful"`
	NotHelpful int64 `json:"not_helpful"`
}

func newFigures() Figures {
	return Figures{HandoffsByReason: map[string]int64{}, HandoffsByTeam: map[string]int64{}}
}

func (f *Figures) add(c parley.DayCount, teams map[string]string) {
	switch c.Metric {
	case MetricConversations:
		f.Conversations += c.N
	case MetricBotAnswers:
		f.BotAnswers += c.N
	case MetricHandoffs:
		f.Handoffs += c.N
		f.HandoffsByReason[c.Key] += c.N
	case MetricHandoffsTeam:
		f.HandoffsByTeam[teams[c.Key]] += c.N
	case MetricHandedOffConversations:
		f.HandedOff += c.N
	case MetricResolvedAfterHandoff:
		f.ResolvedAfterHandoff += c.N
	case MetricResolutionTime:
		f.TimeToResolution.add(c.Key, c.N)
	case MetricFirstReplyTime:
		f.FirstAgentReply.add(c.Key, c.N)
	case MetricFeedback:
		if c.Key == "helpful" {
			f.Feedback.Helpful += c.N
		} else {
			f.Feedback.NotHelpful += c.N
		}
	}
}

func (f *Figures) finish() {
	f.ResolvedByBot = max(f.Conversations-f.HandedOff, 0)
	if f.Conversations > 0 {
		r := math.Round(float64(f.ResolvedByBot)/float64(f.Conversations)*1000) / 1000
		f.DeflectionRate = &r
	}
	f.FirstAgentReply.finish()
	f.TimeToResolution.finish()
}

// Interval is one span of the summary: [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Figures
}

// Summary is the figures of a workspace from From to To, in total and per
// interval.
type Summary struct {
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Interval  string     `json:"interval"`
	Totals    Figures    `json:"totals"`
	Intervals []Interval `json:"intervals"`
}

// Intervals the summary can be cut into.
const (
	Day   = "day"
	Week  = "week" // from Monday
	Month = "month"
)

// CheckInterval says what is wrong with an interval that is not Day, Week
// or Month.
func CheckInterval(interval string) error {
	if interval != Day && interval != Week && interval != Month {
		return parley.Errorf(parley.EInvalid, "interval %q: want day, week or month", interval)
	}
	return nil
}

// Start returns the start of the interval (UTC) that t falls in.
func Start(t time.Time, interval string) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch interval {
	case Week:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

func next(t time.Time, interval string) time.Time {
	switch interval {
	case Week:
		return t.AddDate(0, 0, 7)
	case Month:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// Summarize adds per-day counts up into intervals from from to to (UTC
// midnights); the first and last interval are cut to that span. teams
// names team ids.
func Summarize(counts []parley.DayCount, from, to time.Time, interval string, teams map[string]string) (Summary, error) {
	if err := CheckInterval(interval); err != nil {
		return Summary{}, err
	}
	s := Summary{From: from.UTC(), To: to.UTC(), Interval: interval, Totals: newFigures()}
	index := map[time.Time]int{}
	for start := Start(from, interval); start.Before(to); start = next(start, interval) {
		iv := Interval{Start: start, End: next(start, interval), Figures: newFigures()}
		if iv.Start.Before(s.From) {
			iv.Start = s.From
		}
		if iv.End.After(s.To) {
			iv.End = s.To
		}
		index[start] = len(s.Intervals)
		s.Intervals = append(s.Intervals, iv)
	}
	for _, c := range counts {
		i, ok := index[Start(c.Day, interval)]
		if !ok || c.Day.Before(s.From) || !c.Day.Before(s.To) {
			continue
		}
		s.Intervals[i].add(c, teams)
		s.Totals.add(c, teams)
	}
	for i := range s.Intervals {
		s.Intervals[i].finish()
	}
	s.Totals.finish()
	return s, nil
}

// String describes a summary in one line, for logs and benchmarks.
func (s Summary) String() string {
	return fmt.Sprintf("%s to %s by %s: %d conversations, %d bot answers, %d handoffs",
		s.From.Format(time.DateOnly), s.To.Format(time.DateOnly), s.Interval, s.Totals.Conversations, s.Totals.BotAnswers, s.Totals.Handoffs)
}
