package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// IngestJobs queues the background job of an upload too large to write
// before the response (jobs.Enqueuer): any server may run it, and it
// survives the one that queued it.
type IngestJobs interface {
	Enqueue(ctx context.Context, req ingest.Request, deferred *ingest.Plan, counts ingest.JobCounts) (parley.IngestJob, error)
}

// getJob returns an ingest job of the knowledge base.
func (s *Server) getJob(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	kb, ok := s.kbFromPath(c)
	if !ok {
		return
	}
	job, err := s.store.IngestJob(ctx, ws, kb.ID, c.Param("job"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newJobResponse(job))
}

// jobResponse is an ingest job as the API shows it.
type jobResponse struct {
	ID        string    `json:"id"`
	KBID      string    `json:"knowledge_base_id"`
	State     string    `json:"state"`
	Attempt   int       `json:"attempt"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ingest.JobCounts
}

func newJobResponse(j parley.IngestJob) jobResponse {
	r := jobResponse{ID: j.ID, KBID: j.KBID, State: j.State, Attempt: j.Attempt, Error: j.Error, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	_ = json.Unmarshal(j.Counts, &r.JobCounts) // written by the job; an old shape shows as zeros
	return r
}
