package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// learn makes the just resolved escalation e teach its knowledge (the
// workspace's learning setting decides how) and says what it taught in
// e.Learned. The resolution is committed: a failure to learn is logged
// and reported as skipped "failed", never as a failed resolve.
func (s *Server) learn(c *gin.Context, e *parley.Escalation) {
	if s.opts.Knowledge == nil {
		e.Learned = &parley.Learned{Skipped: "unavailable"}
		return
	}
	// The resolution is committed: what it teaches should follow it even
	// if the client hangs up.
	ctx := context.WithoutCancel(c.Request.Context())
	learned, err := s.opts.Knowledge.Learn(ctx, principal(c).Workspace, *e)
	if err != nil {
		logger(c).ErrorContext(ctx, "learning from a resolution failed; the resolution stands", "escalation_id", e.ID, "err", err.Error())
		learned.Skipped = "failed"
	}
	e.Learned = &learned
}

// listPhrasings pages through the phrasings learned from resolutions,
// oldest first: ?status=pending|approved|added|rejected, ?limit=N (1-100,
// default 50), ?after=CURSOR from the previous page's next_after.
func (s *Server) listPhrasings(c *gin.Context) {
	limit, err := queryInt(c, "limit", 50, 1, 100)
	if err != nil {
		fail(c, err)
		return
	}
	list, next, err := s.store.ListPhrasings(c.Request.Context(), principal(c).Workspace.ID, parley.PhrasingFilter{
		Status: c.Query("status"), After: c.Query("after"), Limit: limit,
	})
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"phrasings": list}
	if next != "" {
		resp["next_after"] = next
	}
	c.JSON(http.StatusOK, resp)
}

func (s *Server) approvePhrasing(c *gin.Context) { s.decidePhrasing(c, true) }
func (s *Server) rejectPhrasing(c *gin.Context)  { s.decidePhrasing(c, false) }

// decidePhrasing approves a pending phrasing, adding it to the learned
// knowledge base (the classifier retrains), or rejects it.
func (s *Server) decidePhrasing(c *gin.Context, approve bool) {
	k := s.knowledgeChanges(c)
	if k == nil {
		return
	}
	p, err := k.Decide(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"), approve)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
