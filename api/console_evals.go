package api

import (
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/web"
)

// Eval runs on the console's analytics page (the latest runs, one suite's
// figures over time) and on a page of their own (one run's figures, gates
// and failed cases).

// Eval runs the analytics page lists, and draws in its chart.
const (
	evalRunsListed  = 20
	evalRunsCharted = 30
)

// evalFormat formats a run's figures for the templates.
type evalFormat struct{}

// Pct is a share as a percentage.
func (evalFormat) Pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// Num is a figure that may be missing (AUROC, a calibrated threshold).
func (evalFormat) Num(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}

// When is the time of a run.
func (evalFormat) When(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// evalsSection is the eval part of the analytics page: the latest runs of
// every suite, and the chart of one suite's (Suite, ?suite= or the latest
// run's).
type evalsSection struct {
	evalFormat
	Runs   []parley.EvalRun
	Suites []string
	Suite  string
	Chart  *web.LineChart
}

func (s *Server) evalsSection(c *gin.Context) (evalsSection, error) {
	ctx, ws := c.Request.Context(), principal(c).Workspace.ID
	var d evalsSection
	runs, err := s.store.ListEvalRuns(ctx, ws, "", evalRunsListed)
	if err != nil || len(runs) == 0 {
		return d, err
	}
	d.Runs, d.Suite = runs, c.Query("suite")
	if d.Suite == "" {
		d.Suite = runs[0].Suite
	}
	for _, r := range runs {
		if !slices.Contains(d.Suites, r.Suite) {
			d.Suites = append(d.Suites, r.Suite)
		}
	}
	charted, err := s.store.ListEvalRuns(ctx, ws, d.Suite, evalRunsCharted)
	if err != nil || len(charted) == 0 {
		return d, err
	}
	if !slices.Contains(d.Suites, d.Suite) {
		d.Suites = append(d.Suites, d.Suite)
	}
	slices.Reverse(charted) // oldest first
	chart := web.LineChart{ID: "chart-evals", Title: "evals.chart", Lines: []web.Line{
		{Label: "evals.precision", Class: "precision"},
		{Label: "evals.coverage", Class: "coverage"},
		{Label: "evals.escalation_recall", Class: "recall"},
		{Label: "evals.hit_at_1", Class: "hit"},
	}}
	for _, r := range charted {
		f := r.Figures
		chart.Points = append(chart.Points, r.RanAt)
		for i, v := range []float64{f.Precision, f.Coverage, f.EscalationRecall, f.HitAt1} {
			chart.Lines[i].Values = append(chart.Lines[i].Values, &v)
		}
	}
	d.Chart = &chart
	return d, nil
}

// evalRunPageData is one eval run.
type evalRunPageData struct {
	evalFormat
	parley.EvalRun
}

func (s *Server) evalRunData(c *gin.Context) (any, error) {
	run, err := s.evalRun(c)
	return evalRunPageData{EvalRun: run}, err
}
