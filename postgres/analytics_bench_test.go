package postgres_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/analytics"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// analyticsBenchSQL stores $2 conversations of workspace $1 spread over the
// last 30 days, 4 messages each (customer, bot, customer, bot): every 7th is
// handed off (5 reasons) with an agent reply 2 minutes and a resolution 20
// minutes later, and every 10th bot answer has feedback.
const analyticsBenchSQL = `
CREATE TEMP TABLE bench_conv AS
SELECT gen_random_uuid() AS id, now() - random() * interval '30 days' AS at, g AS n FROM generate_series(1, $2) g;
INSERT INTO conversations (id, workspace_id, channel, created_at, updated_at)
SELECT id, $1, 'web', at, at FROM bench_conv;
INSERT INTO messages (workspace_id, conversation_id, role, text, created_at)
SELECT $1, c.id, m.role, m.role || ' message ' || c.n, c.at + m.k * interval '20 seconds'
FROM bench_conv c, (VALUES (0, 'customer'), (1, 'bot'), (2, 'customer'), (3, 'bot')) m(k, role) ORDER BY c.at, m.k;
INSERT INTO escalations (workspace_id, conversation_id, reason, status, context, created_at, claimed_at, resolved_at, resolution)
SELECT $1, id, (ARRAY['no_match', 'low_confidence', 'human_requested', 'unhelpful', 'sensitive'])[1 + n % 5], 'resolved',
    jsonb_build_object('question', (ARRAY['Where is my parcel?', 'Do you accept bitcoin?', 'Can I change my delivery address?',
        'Is the monstera safe for cats?', 'Why was my card declined?', 'Can I pick up my order in the shop?',
        'Do you ship to Norway?', 'How do I delete my account?', 'My pot arrived broken', 'Can I pay by invoice?',
        'Do you sell gift wrapping?', 'When will the ficus be back in stock?'])[1 + n % 12] || ' Order ' || n),
    at + interval '1 minute', at + interval '2 minutes', at + interval '20 minutes', 'done'
FROM bench_conv WHERE n % 7 = 0;
INSERT INTO messages (workspace_id, conversation_id, role, text, created_at)
SELECT $1, id, 'agent', 'agent reply', at + interval '3 minutes' FROM bench_conv WHERE n % 7 = 0;
INSERT INTO feedback (message_id, workspace_id, conversation_id, helpful, created_at)
SELECT id, workspace_id, conversation_id, id % 3 <> 0, created_at + interval '10 seconds'
FROM messages WHERE workspace_id = $1 AND role = 'bot' AND id % 10 = 0;`

// TestAnalyticsBenchmark times the 30-day summary and gaps over 1,000,000 stored
// messages (make bench-analytics; PARLEY_BENCH_ANALYTICS=N conversations,
// 4 messages each).
func TestAnalyticsBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PARLEY_BENCH_ANALYTICS"))
	if n <= 0 {
		t.Skip("set PARLEY_BENCH_ANALYTICS to a number of conversations (make bench-analytics does)")
	}
	ctx := context.Background()
	db := pgtest.FreshDB(t, 4)
	ws, _, err := db.EnsureWorkspace(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// One script (it shares a temporary table), so the values are written in.
	script := strings.NewReplacer("$1", "'"+ws.ID+"'::uuid", "$2", strconv.Itoa(n)).Replace(analyticsBenchSQL)
	if _, err := db.Pool().Exec(ctx, script); err != nil {
		t.Fatalf("generate: %v", err)
	}
	if _, err := db.Pool().Exec(ctx, `VACUUM ANALYZE conversations, messages, escalations, feedback`); err != nil {
		t.Fatal(err)
	}
	var messages int64
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1`, ws.ID).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d conversations, %d messages in %v", n, messages, time.Since(start).Round(time.Millisecond))

	summary := func() (time.Duration, analytics.Summary) {
		t.Helper()
		now := time.Now()
		to := analytics.Start(now, analytics.Day).AddDate(0, 0, 1)
		from := to.AddDate(0, 0, -30)
		begin := time.Now()
		counts, err := db.AnalyticsDays(ctx, ws.ID, from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		s, err := analytics.Summarize(counts, from, to, analytics.Day, nil)
		if err != nil {
			t.Fatal(err)
		}
		return time.Since(begin), s
	}
	cold, s := summary()
	t.Logf("first 30-day summary (counts the 29 past days into the rollup): %v; %s", cold.Round(time.Millisecond), s)
	var warm []time.Duration
	for range 7 {
		d, _ := summary()
		warm = append(warm, d)
	}
	slices.Sort(warm)
	t.Logf("30-day summary after that (past days from the rollup, today counted live), 7 runs: median %v, max %v",
		warm[len(warm)/2].Round(time.Millisecond), warm[len(warm)-1].Round(time.Millisecond))
	var gapTimes []time.Duration
	var topics []analytics.Topic
	for range 3 {
		begin := time.Now()
		to := analytics.Start(begin, analytics.Day).AddDate(0, 0, 1)
		qs, total, err := db.UnansweredQuestions(ctx, ws.ID, to.AddDate(0, 0, -30), to, 2000)
		if err != nil {
			t.Fatal(err)
		}
		if topics, err = analytics.Gaps(ctx, retrieval.NewLocal(), qs); err != nil {
			t.Fatal(err)
		}
		gapTimes = append(gapTimes, time.Since(begin))
		if len(gapTimes) == 1 {
			t.Logf("gaps: %d unanswered questions in 30 days, the newest %d grouped into %d topics; the largest: %d, e.g. %q",
				total, len(qs), len(topics), topics[0].Count, topics[0].Examples[0])
		}
	}
	slices.Sort(gapTimes)
	t.Logf("30-day gaps, 3 runs: median %v, max %v", gapTimes[1].Round(time.Millisecond), gapTimes[2].Round(time.Millisecond))
	if s.Totals.BotAnswers == 0 || s.Totals.Feedback.Helpful == 0 || s.Totals.FirstAgentReply.Count == 0 {
		t.Errorf("the summary misses the generated data: %+v", s.Totals)
	}
}
