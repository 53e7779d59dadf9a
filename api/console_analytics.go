package api

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/analytics"
	"github.com/parleyhq/parley/web"
)

// The console's analytics page: the summary drawn as charts on the server,
// the gaps with their draft FAQ entries (published from
// web/console/static/analytics.js through the upload API).

// analyticsPeriods are the spans the page offers, in days.
var analyticsPeriods = []int{7, 30, 90}

// analyticsPageData is what the analytics page shows.
type analyticsPageData struct {
	Days    int
	Periods []int
	Summary analytics.Summary
	Daily   web.TimeChart
	Reasons web.BarList
	// Gaps is nil when the server cannot find them (no embedder).
	Gaps  *gapsResult
	KBs   []parley.KnowledgeBase
	Evals evalsSection
}

// DeflectionPercent is the share of conversations the bot resolved alone, as a percentage.
func (d analyticsPageData) DeflectionPercent() string {
	if r := d.Summary.Totals.DeflectionRate; r != nil {
		return fmt.Sprintf("%.0f%%", *r*100)
	}
	return "–"
}

// Median is a duration's median, in the largest unit that keeps it readable.
func (d analyticsPageData) Median(x analytics.Durations) string {
	if x.MedianSeconds == nil {
		return "–"
	}
	s := *x.MedianSeconds
	switch {
	case s < 90:
		return fmt.Sprintf("%.0f s", s)
	case s < 90*60:
		return fmt.Sprintf("%.1f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}

func (s *Server) analyticsData(c *gin.Context) (any, error) {
	ctx, ws, now := c.Request.Context(), principal(c).Workspace.ID, time.Now()
	days := 30
	if v := c.Query("days"); v != "" {
		if _, err := fmt.Sscan(v, &days); err != nil || !slices.Contains(analyticsPeriods, days) {
			return nil, parley.Errorf(parley.EInvalid, "days must be one of %v", analyticsPeriods)
		}
	}
	interval := analytics.Day
	if days > 31 {
		interval = analytics.Week
	}
	to := analytics.Start(now, analytics.Day).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -days)
	sum, err := s.summarize(ctx, ws, from, to, interval, now)
	if err != nil {
		return nil, err
	}
	d := analyticsPageData{Days: days, Periods: analyticsPeriods, Summary: sum}
	d.Daily = web.TimeChart{ID: "chart-conversations", Title: "analytics.chart.conversations", Series: []web.Series{
		{Label: "analytics.resolved_by_bot", Class: "bot"},
		{Label: "analytics.handed_off", Class: "handoff"},
	}}
	for _, iv := range sum.Intervals {
		d.Daily.Starts = append(d.Daily.Starts, iv.Start)
		d.Daily.Series[0].Values = append(d.Daily.Series[0].Values, iv.ResolvedByBot)
		d.Daily.Series[1].Values = append(d.Daily.Series[1].Values, iv.HandedOff)
	}
	d.Reasons = web.BarList{ID: "chart-reasons", Title: "analytics.chart.reasons"}
	for reason, n := range sum.Totals.HandoffsByReason {
		d.Reasons.Bars = append(d.Reasons.Bars, web.Bar{Label: "reason." + reason, Value: n})
	}
	slices.SortFunc(d.Reasons.Bars, func(a, b web.Bar) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Label, b.Label))
	})
	if g, err := s.gaps(ctx, ws, from, to, 20); err == nil {
		d.Gaps = &g
	} else if parley.ErrorCode(err) != parley.EUnavailable {
		return nil, err
	}
	if d.KBs, err = s.store.ListKBs(ctx, ws); err != nil {
		return nil, err
	}
	if d.Evals, err = s.evalsSection(c); err != nil {
		return nil, err
	}
	return d, nil
}
