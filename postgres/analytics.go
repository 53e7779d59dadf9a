package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// closeMargin is how long after midnight UTC a day is still counted live:
// a transaction that began before midnight may commit a little after it.
const closeMargin = 10 * time.Minute

const oneDay = 24 * time.Hour

// dayCountsSQL counts, per UTC day in [$2, $3), what happened in workspace $1,
// each event on the day it happened: conversations started, bot answers,
// handoffs by reason and by team, conversations handed off, handoffs
// resolved, feedback on bot answers (helpful or not), and histograms of the
// time to resolution and to the first agent reply, internal notes aside (key
// = bucket, see analytics.Bucket): an agent message is a first reply when no
// other agent message of its conversation came between it and the latest
// handoff before it.
const dayCountsSQL = `
WITH e AS (
    SELECT conversation_id, reason, team_id, created_at FROM escalations
    WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
)
SELECT (created_at AT TIME ZONE 'UTC')::date, 'conversations', '', count(*) FROM conversations
    WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1
UNION ALL
SELECT (created_at AT TIME ZONE 'UTC')::date, 'bot_answers', '', count(*) FROM messages
    WHERE workspace_id = $1 AND role = 'bot' AND created_at >= $2 AND created_at < $3 GROUP BY 1
UNION ALL
SELECT (created_at AT TIME ZONE 'UTC')::date, 'handoffs', reason, count(*) FROM e GROUP BY 1, 3
UNION ALL
SELECT (created_at AT TIME ZONE 'UTC')::date, 'handoffs_team', coalesce(team_id::text, ''), count(*) FROM e GROUP BY 1, 3
UNION ALL
SELECT (created_at AT TIME ZONE 'UTC')::date, 'handed_off_conversations', '', count(DISTINCT conversation_id) FROM e GROUP BY 1
UNION ALL
SELECT (resolved_at AT TIME ZONE 'UTC')::date, 'resolved_after_handoff', '', count(*) FROM escalations
    WHERE workspace_id = $1 AND status = 'resolved' AND resolved_at >= $2 AND resolved_at < $3 GROUP BY 1
UNION ALL
SELECT (resolved_at AT TIME ZONE 'UTC')::date, 'resolution_time',
        floor(4 * log(2, greatest(extract(epoch FROM resolved_at - created_at), 0) + 1))::int::text, count(*)
    FROM escalations
    WHERE workspace_id = $1 AND status = 'resolved' AND resolved_at >= $2 AND resolved_at < $3 GROUP BY 1, 3
UNION ALL
SELECT (m.created_at AT TIME ZONE 'UTC')::date, 'first_reply_time',
        floor(4 * log(2, greatest(extract(epoch FROM m.created_at - h.created_at), 0) + 1))::int::text, count(*)
    FROM messages m
    CROSS JOIN LATERAL (SELECT x.created_at FROM escalations x WHERE x.conversation_id = m.conversation_id
        AND x.created_at <= m.created_at ORDER BY x.created_at DESC LIMIT 1) h
    WHERE m.workspace_id = $1 AND m.role = 'agent' AND NOT m.internal AND m.created_at >= $2 AND m.created_at < $3
        AND NOT EXISTS (SELECT FROM messages p WHERE p.conversation_id = m.conversation_id AND p.role = 'agent'
            AND NOT p.internal AND p.created_at >= h.created_at AND p.created_at < m.created_at)
    GROUP BY 1, 3
UNION ALL
SELECT (created_at AT TIME ZONE 'UTC')::date, 'feedback', CASE WHEN helpful THEN 'helpful' ELSE 'not_helpful' END, count(*)
    FROM feedback WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1, 3`

// AnalyticsDays returns the per-day counts of a workspace for the UTC days
// from (inclusive) to to (exclusive), both midnights. Days over before now
// come from the rollup, which counts each such day the first time it is
// asked for; later days are counted live.
func (db *DB) AnalyticsDays(ctx context.Context, workspaceID string, from, to, now time.Time) ([]parley.DayCount, error) {
	from, to = from.UTC().Truncate(oneDay), to.UTC().Truncate(oneDay)
	closed := now.UTC().Add(-closeMargin).Truncate(oneDay) // days before this are over
	split := closed                                        // rolled-up days are before split, live ones from it
	if split.Before(from) {
		split = from
	}
	if split.After(to) {
		split = to
	}
	if split.After(from) {
		if err := db.rollUp(ctx, workspaceID, from, split); err != nil {
			return nil, err
		}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT day, metric, key, n FROM analytics_days WHERE workspace_id = $1 AND day >= $2 AND day < $3`,
		workspaceID, from, split)
	if to.After(split) {
		b.Queue(dayCountsSQL, workspaceID, split, to)
	}
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	var out []parley.DayCount
	for range b.Len() {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("read analytics: %w", err)
		}
		counts, err := collectDayCounts(rows)
		if err != nil {
			return nil, fmt.Errorf("read analytics: %w", err)
		}
		out = append(out, counts...)
	}
	return out, br.Close()
}

func collectDayCounts(rows pgx.Rows) ([]parley.DayCount, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.DayCount, error) {
		var c parley.DayCount
		err := r.Scan(&c.Day, &c.Metric, &c.Key, &c.N)
		c.Day = time.Date(c.Day.Year(), c.Day.Month(), c.Day.Day(), 0, 0, 0, 0, time.UTC)
		return c, err
	})
}

// rollUp counts the days in [from, to) that are not rolled up yet and
// stores them. Two servers rolling up the same day store the same counts;
// the second one's are ignored.
func (db *DB) rollUp(ctx context.Context, workspaceID string, from, to time.Time) error {
	rows, err := db.pool.Query(ctx, `SELECT d::date FROM generate_series($2::date, $3::date - 1, interval '1 day') d
		WHERE NOT EXISTS (SELECT FROM analytics_days_done x WHERE x.workspace_id = $1 AND x.day = d::date) ORDER BY 1`,
		workspaceID, from, to)
	if err != nil {
		return fmt.Errorf("find analytics days to count: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("find analytics days to count: %w", err)
	}
	if len(missing) == 0 {
		return nil
	}
	first, last := missing[0], missing[len(missing)-1].Add(oneDay)
	return db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, dayCountsSQL, workspaceID, first, last)
		if err != nil {
			return fmt.Errorf("count analytics days: %w", err)
		}
		counts, err := collectDayCounts(rows)
		if err != nil {
			return fmt.Errorf("count analytics days: %w", err)
		}
		want := map[time.Time]bool{}
		for _, d := range missing {
			want[d.UTC()] = true
		}
		b := &pgx.Batch{}
		for _, c := range counts {
			if want[c.Day] {
				b.Queue(`INSERT INTO analytics_days (workspace_id, day, metric, key, n) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT DO NOTHING`, workspaceID, c.Day, c.Metric, c.Key, c.N)
			}
		}
		b.Queue(`INSERT INTO analytics_days_done (workspace_id, day) SELECT $1, unnest($2::date[]) ON CONFLICT DO NOTHING`,
			workspaceID, missing)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store analytics days: %w", err)
		}
		return nil
	})
}

// UnansweredQuestions returns the newest limit questions of [from, to) that
// the bot handed to a person for want of an answer, and how many there are
// in all.
func (db *DB) UnansweredQuestions(ctx context.Context, workspaceID string, from, to time.Time, limit int) ([]parley.UnansweredQuestion, int, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT e.context->>'question', coalesce(nullif(e.context->>'language', ''), c.language), e.reason, e.created_at,
			coalesce(nullif(e.context->'candidates'->0->'sources'->0->>'title', ''), e.context->'candidates'->0->'sources'->0->>'external_id', ''),
			coalesce((e.context->'candidates'->0->>'similarity')::float8, 0), e.resolution, count(*) OVER ()
		FROM escalations e JOIN conversations c ON c.id = e.conversation_id
		WHERE e.workspace_id = $1 AND e.reason IN ('no_match', 'low_confidence', 'unhelpful')
			AND e.created_at >= $2 AND e.created_at < $3 AND coalesce(e.context->>'question', '') <> ''
		ORDER BY e.created_at DESC LIMIT $4`, workspaceID, from, to, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read unanswered questions: %w", err)
	}
	total := 0
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.UnansweredQuestion, error) {
		var q parley.UnansweredQuestion
		err := r.Scan(&q.Text, &q.Language, &q.Reason, &q.At, &q.Nearest, &q.NearestSimilarity, &q.Resolution, &total)
		return q, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read unanswered questions: %w", err)
	}
	return qs, total, nil
}
