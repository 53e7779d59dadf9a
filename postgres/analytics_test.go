package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/analytics"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// seedDay stores, at t: a conversation with a customer message and a bot
// answer, and when handoff is set a handoff of it (reason no_match) that an
// agent answers 2 minutes later (after an internal note), that the customer
// marked unhelpful, and resolves 10 minutes later.
func seedDay(t *testing.T, wsID string, at time.Time, handoff bool) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.DB(t).Pool()
	var conv string
	if err := pool.QueryRow(ctx, `INSERT INTO conversations (workspace_id, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`,
		wsID, at).Scan(&conv); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO messages (workspace_id, conversation_id, role, text, created_at)
		VALUES ($1, $2, 'customer', 'hi', $3), ($1, $2, 'bot', 'hello', $3)`, wsID, conv, at); err != nil {
		t.Fatal(err)
	}
	if !handoff {
		return
	}
	if _, err := pool.Exec(ctx, `INSERT INTO feedback (message_id, workspace_id, conversation_id, helpful, created_at)
		VALUES ((SELECT max(id) FROM messages WHERE conversation_id = $2 AND role = 'bot'), $1, $2, false, $3)`, wsID, conv, at); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO escalations (workspace_id, conversation_id, reason, status, context, created_at, resolved_at)
		VALUES ($1, $2, 'no_match', 'resolved', '{}', $3, $3::timestamptz + interval '10 minutes')`, wsID, conv, at); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO messages (workspace_id, conversation_id, role, text, internal, created_at)
		VALUES ($1, $2, 'agent', 'a note', true, $3::timestamptz + interval '1 minute'),
		       ($1, $2, 'agent', 'on it', false, $3::timestamptz + interval '2 minutes')`, wsID, conv, at); err != nil {
		t.Fatal(err)
	}
}

func TestAnalyticsDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	other := pgtest.Workspace(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if time.Since(today) < 20*time.Minute {
		t.Skip("too close to midnight UTC: the test's days would move")
	}
	d3, d2 := today.AddDate(0, 0, -3), today.AddDate(0, 0, -2)
	seedDay(t, ws.ID, d3.Add(9*time.Hour), false)
	seedDay(t, ws.ID, d3.Add(10*time.Hour), true)
	seedDay(t, ws.ID, d2.Add(9*time.Hour), false)
	seedDay(t, ws.ID, today.Add(time.Minute), true)
	seedDay(t, other.ID, d3.Add(9*time.Hour), true)

	sum := func() analytics.Summary {
		t.Helper()
		counts, err := db.AnalyticsDays(ctx, ws.ID, today.AddDate(0, 0, -7), today.AddDate(0, 0, 1), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s, err := analytics.Summarize(counts, today.AddDate(0, 0, -7), today.AddDate(0, 0, 1), analytics.Day, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := sum()
	if len(s.Intervals) != 8 {
		t.Fatalf("%d intervals, want 8", len(s.Intervals))
	}
	day3, day2, now := s.Intervals[4].Figures, s.Intervals[5].Figures, s.Intervals[7].Figures
	if day3.Conversations != 2 || day3.BotAnswers != 2 || day3.Handoffs != 1 || day3.HandoffsByReason["no_match"] != 1 ||
		day3.HandedOff != 1 || day3.ResolvedByBot != 1 || *day3.DeflectionRate != 0.5 || day3.ResolvedAfterHandoff != 1 {
		t.Errorf("3 days ago: %+v", day3)
	}
	if day3.FirstAgentReply.Count != 1 || *day3.FirstAgentReply.MedianSeconds < 108 || *day3.FirstAgentReply.MedianSeconds > 132 {
		t.Errorf("first reply 3 days ago: %+v (want about 120 s)", day3.FirstAgentReply)
	}
	if m := *day3.TimeToResolution.MedianSeconds; m < 540 || m > 660 {
		t.Errorf("time to resolution %v s, want about 600", m)
	}
	if day3.Feedback.NotHelpful != 1 || day3.Feedback.Helpful != 0 {
		t.Errorf("feedback 3 days ago: %+v", day3.Feedback)
	}
	if day2.Conversations != 1 || day2.Handoffs != 0 || *day2.DeflectionRate != 1 {
		t.Errorf("2 days ago: %+v", day2)
	}
	if now.Conversations != 1 || now.Handoffs != 1 {
		t.Errorf("today: %+v", now)
	}
	if s.Totals.Conversations != 4 || s.Totals.Handoffs != 2 || s.Totals.HandoffsByTeam[""] != 2 {
		t.Errorf("totals: %+v", s.Totals)
	}

	// Past days are rolled up once; today is counted live.
	var done int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM analytics_days_done WHERE workspace_id = $1`, ws.ID).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != 7 {
		t.Errorf("%d days rolled up, want the 7 before today", done)
	}
	seedDay(t, ws.ID, today.Add(2*time.Minute), false)
	if got := sum().Totals.Conversations; got != 5 {
		t.Errorf("after one more conversation today: %d, want 5", got)
	}
}

func TestSummarizeByWeek(t *testing.T) {
	t.Parallel()
	mon := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	counts := []parley.DayCount{
		{Day: mon.AddDate(0, 0, -1), Metric: analytics.MetricConversations, N: 4},
		{Day: mon, Metric: analytics.MetricConversations, N: 2},
		{Day: mon.AddDate(0, 0, 6), Metric: analytics.MetricConversations, N: 3},
		{Day: mon.AddDate(0, 0, 7), Metric: analytics.MetricConversations, N: 5},
		{Day: mon, Metric: analytics.MetricHandoffsTeam, Key: "t1", N: 1},
	}
	s, err := analytics.Summarize(counts, mon.AddDate(0, 0, -1), mon.AddDate(0, 0, 8), analytics.Week, map[string]string{"t1": "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Intervals) != 3 || s.Intervals[0].Conversations != 4 || s.Intervals[1].Conversations != 5 || s.Intervals[2].Conversations != 5 {
		t.Fatalf("weeks: %+v", s.Intervals)
	}
	if !s.Intervals[0].Start.Equal(mon.AddDate(0, 0, -1)) || !s.Intervals[2].End.Equal(mon.AddDate(0, 0, 8)) {
		t.Errorf("first and last week are not cut to the span: %v-%v", s.Intervals[0].Start, s.Intervals[2].End)
	}
	if s.Totals.HandoffsByTeam["billing"] != 1 {
		t.Errorf("by team: %v", s.Totals.HandoffsByTeam)
	}
	if _, err := analytics.Summarize(nil, mon, mon.AddDate(0, 0, 1), "hour", nil); parley.ErrorCode(err) != parley.EInvalid {
		t.Errorf("interval hour: %v", err)
	}
}
