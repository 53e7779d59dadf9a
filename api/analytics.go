package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/analytics"
)

// maxAnalyticsSpan is the longest span one summary covers.
const maxAnalyticsSpan = 400 * 24 * time.Hour

// analyticsSummary answers GET /v1/analytics/summary?from=&to=&interval=:
// the workspace's figures per interval. from and to are dates (2024-05-01)
// or RFC 3339 times, cut to UTC days; by default the 30 days up to today.
func (s *Server) analyticsSummary(c *gin.Context) {
	ctx := c.Request.Context()
	now := time.Now()
	from, to, err := analyticsSpan(c, now)
	if err != nil {
		fail(c, err)
		return
	}
	sum, err := s.summarize(ctx, principal(c).Workspace.ID, from, to, c.DefaultQuery("interval", analytics.Day), now)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}

// summarize is the workspace's summary from from to to by interval.
// An interval it cannot cut into is refused before the store rolls up
// (and keeps) the days.
func (s *Server) summarize(ctx context.Context, ws string, from, to time.Time, interval string, now time.Time) (analytics.Summary, error) {
	if err := analytics.CheckInterval(interval); err != nil {
		return analytics.Summary{}, err
	}
	counts, err := s.store.AnalyticsDays(ctx, ws, from, to, now)
	if err != nil {
		return analytics.Summary{}, err
	}
	teams, err := s.store.ListTeams(ctx, ws)
	if err != nil {
		return analytics.Summary{}, err
	}
	names := map[string]string{}
	for _, t := range teams {
		names[t.ID] = t.Name
	}
	return analytics.Summarize(counts, from, to, interval, names)
}

// analyticsSpan reads from and to: dates (2024-05-01) or RFC 3339 times,
// cut to UTC days; by default the 30 days up to today.
func analyticsSpan(c *gin.Context, now time.Time) (from, to time.Time, err error) {
	to = analytics.Start(now, analytics.Day).AddDate(0, 0, 1)
	if v := c.Query("to"); v != "" {
		if to, err = parseDay(v, "to"); err != nil {
			return from, to, err
		}
	}
	from = to.AddDate(0, 0, -30)
	if v := c.Query("from"); v != "" {
		if from, err = parseDay(v, "from"); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) || to.Sub(from) > maxAnalyticsSpan {
		return from, to, parley.Errorf(parley.EInvalid, "from must be before to, at most 400 days apart")
	}
	return from, to, nil
}

// gapQuestions is how many of the newest unanswered questions the gaps
// are found in.
const gapQuestions = 2000

// analyticsGaps answers GET /v1/analytics/gaps?from=&to=&limit=: the
// questions the bot could not answer, grouped into topics, most frequent
// first (limit topics, default 20).
func (s *Server) analyticsGaps(c *gin.Context) {
	from, to, err := analyticsSpan(c, time.Now())
	if err != nil {
		fail(c, err)
		return
	}
	limit, err := queryInt(c, "limit", 20, 1, 200)
	if err != nil {
		fail(c, err)
		return
	}
	g, err := s.gaps(c.Request.Context(), principal(c).Workspace.ID, from, to, limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

// gapsResult is the gaps of a span: the topics of its newest unanswered
// questions.
type gapsResult struct {
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Unanswered int               `json:"unanswered"`
	Questions  int               `json:"questions"`
	Topics     []analytics.Topic `json:"topics"`
}

// gaps finds the workspace's gaps from from to to: at most limit topics.
func (s *Server) gaps(ctx context.Context, ws string, from, to time.Time, limit int) (gapsResult, error) {
	if s.opts.Embedder == nil {
		return gapsResult{}, parley.Errorf(parley.EUnavailable, "gaps need an embedder, and this server has none")
	}
	qs, total, err := s.store.UnansweredQuestions(ctx, ws, from, to, gapQuestions)
	if err != nil {
		return gapsResult{}, err
	}
	topics, err := analytics.Gaps(ctx, s.opts.Embedder, qs)
	if err != nil {
		return gapsResult{}, err
	}
	return gapsResult{From: from, To: to, Unanswered: total, Questions: len(qs), Topics: topics[:min(limit, len(topics))]}, nil
}

// parseDay reads a date or an RFC 3339 time as the UTC day it falls in; a
// time after midnight counts its whole day.
func parseDay(v, name string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, parley.Errorf(parley.EInvalid, "%s %q: want a date (2024-05-01) or an RFC 3339 time", name, v)
	}
	d := analytics.Start(t, analytics.Day)
	if t.After(d) && name == "to" {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
