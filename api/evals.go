package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/evals"
)

// Eval runs kept with a workspace: a report.json of `parley eval` uploaded
// (CI, or `parley eval --record`, which writes to the database itself),
// listed and read back for the console's Analytics page.

// evalRunsRoute takes eval reports, capped at MaxEvalReportBytes.
const evalRunsRoute = "/v1/evals/runs"

// DefaultMaxEvalReportBytes caps an uploaded eval report when
// Options.MaxEvalReportBytes is zero: a report.json with every outcome of
// a few thousand cases fits.
const DefaultMaxEvalReportBytes = 16 << 20

// Lists of eval runs: how many by default and at most.
const (
	defaultEvalRuns = 50
	maxEvalRuns     = 500
)

// postEvalRun keeps an uploaded report.json as a run: its figures, gates
// and worst failed cases (the outcomes themselves are not kept).
func (s *Server) postEvalRun(c *gin.Context) {
	var rep evals.Report
	if err := bindJSON(c, &rep); err != nil {
		fail(c, err)
		return
	}
	run, err := rep.Record()
	if err != nil {
		fail(c, err)
		return
	}
	if run, err = s.store.CreateEvalRun(c.Request.Context(), principal(c).Workspace.ID, run); err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", evalRunsRoute+"/"+strconv.FormatInt(run.ID, 10))
	c.JSON(http.StatusCreated, run)
}

// listEvalRuns lists the workspace's runs, newest first (?suite= one
// suite's, ?limit= how many).
func (s *Server) listEvalRuns(c *gin.Context) {
	limit := defaultEvalRuns
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEvalRuns {
			fail(c, parley.Errorf(parley.EInvalid, "limit: want a number from 1 to %d", maxEvalRuns))
			return
		}
		limit = n
	}
	runs, err := s.store.ListEvalRuns(c.Request.Context(), principal(c).Workspace.ID, c.Query("suite"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	if runs == nil {
		runs = []parley.EvalRun{}
	}
	c.JSON(http.StatusOK, gin.H{"runs": runs})
}

func (s *Server) getEvalRun(c *gin.Context) {
	run, err := s.evalRun(c)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, run)
}

// evalRun reads the run the path's :id names in the principal's workspace.
func (s *Server) evalRun(c *gin.Context) (parley.EvalRun, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return parley.EvalRun{}, parley.Errorf(parley.ENotFound, "eval run %q not found", c.Param("id"))
	}
	return s.store.EvalRun(c.Request.Context(), principal(c).Workspace.ID, id)
}
