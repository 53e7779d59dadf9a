package api

import (
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
	to := analytics.Start(now, analytics.Day).AddDate(0, 0, 1)
	if v := c.Query("to"); v != "" {
		t, err := parseDay(v, "to")
		if err != nil {
			fail(c, err)
			return
		}
		to = t
	}
	from := to.AddDate(0, 0, -30)
	if v := c.Query("from"); v != "" {
		t, err := parseDay(v, "from")
		if err != nil {
			fail(c, err)
			return
		}
		from = t
	}
	if !from.Before(to) || to.Sub(from) > maxAnalyticsSpan {
		fail(c, parley.Errorf(parley.EInvalid, "from must be before to, at most 400 days apart"))
		return
	}
	interval := c.DefaultQuery("interval", analytics.Day)
	ws := principal(c).Workspace.ID
	counts, err := s.store.AnalyticsDays(ctx, ws, from, to, now)
	if err != nil {
		fail(c, err)
		return
	}
	teams, err := s.store.ListTeams(ctx, ws)
	if err != nil {
		fail(c, err)
		return
	}
	names := map[string]string{}
	for _, t := range teams {
		names[t.ID] = t.Name
	}
	sum, err := analytics.Summarize(counts, from, to, interval, names)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
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
