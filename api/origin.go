package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest/crawl"
)

// Origins keeps knowledge bases' origins (postgres.DB), queues their
// syncs as background jobs (jobs.SyncEnqueuer) and previews a sync
// (crawl.Syncer).
type Origins interface {
	SetOrigin(ctx context.Context, o parley.Origin) (parley.Origin, error)
	Origin(ctx context.Context, workspaceID, kbID string) (parley.Origin, error)
	QueueSync(ctx context.Context, workspaceID, kbID string) error
	DryRun(ctx context.Context, workspaceID, kbID string) (crawl.Preview, error)
}

// minSyncEvery is the shortest schedule: a help center is not a feed.
const minSyncEvery = 10 * time.Minute

// originRequest is the body of PUT .../origin: the site and its crawl
// settings.
type originRequest struct {
	URL       string `json:"url"`
	SyncEvery string `json:"sync_every"`
	crawl.Settings
}

// originResponse is an origin as the API shows it.
type originResponse struct {
	KBID      string          `json:"knowledge_base_id"`
	URL       string          `json:"url"`
	SyncEvery string          `json:"sync_every,omitempty"`
	Settings  json.RawMessage `json:"settings"`
	Sync      syncResponse    `json:"sync"`
	UpdatedAt time.Time       `json:"updated_at"`
}

type syncResponse struct {
	State      string          `json:"state"`
	Error      string          `json:"error,omitempty"`
	Report     json.RawMessage `json:"report,omitempty"`
	SyncedAt   *time.Time      `json:"synced_at,omitempty"`
	NextSyncAt *time.Time      `json:"next_sync_at,omitempty"`
}

func newOriginResponse(o parley.Origin) originResponse {
	r := originResponse{KBID: o.KBID, URL: o.URL, Settings: o.Settings, UpdatedAt: o.UpdatedAt,
		Sync: syncResponse{State: o.SyncState, Error: o.SyncError, SyncedAt: o.SyncedAt, NextSyncAt: o.NextSyncAt}}
	if o.SyncEvery > 0 {
		r.SyncEvery = o.SyncEvery.String()
	}
	if len(o.SyncReport) > 0 && string(o.SyncReport) != "null" {
		r.Sync.Report = o.SyncReport
	}
	if r.Sync.State == "" {
		r.Sync.State = "never"
	}
	return r
}

// originKB returns the configured Origins and the knowledge base of the
// path, or answers 503 or 404.
func (s *Server) originKB(c *gin.Context) (Origins, parley.KnowledgeBase, bool) {
	if s.opts.Origins == nil {
		fail(c, parley.Errorf(parley.EUnavailable, "website sync is not enabled on this server"))
		return nil, parley.KnowledgeBase{}, false
	}
	kb, ok := s.kbFromPath(c)
	return s.opts.Origins, kb, ok
}

// putOrigin sets the website a knowledge base is synced from. The URL is
// checked against the crawl address policy, as a webhook's is.
func (s *Server) putOrigin(c *gin.Context) {
	origins, kb, ok := s.originKB(c)
	if !ok {
		return
	}
	var req originRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	o := parley.Origin{KBID: kb.ID, WorkspaceID: kb.WorkspaceID, URL: req.URL}
	if req.SyncEvery != "" {
		d, err := time.ParseDuration(req.SyncEvery)
		if err != nil || (d != 0 && d < minSyncEvery) {
			fail(c, parley.Errorf(parley.EInvalid, "sync_every %q: want a duration of at least %s (e.g. 24h), or 0 for on demand only", req.SyncEvery, minSyncEvery))
			return
		}
		o.SyncEvery = d
	}
	if _, err := req.Settings.Options(req.URL); err != nil {
		fail(c, err)
		return
	}
	if err := s.opts.CrawlPolicy.CheckURL(c.Request.Context(), req.URL); err != nil {
		fail(c, err)
		return
	}
	raw, err := json.Marshal(req.Settings)
	if err != nil {
		fail(c, err)
		return
	}
	o.Settings = raw
	saved, err := origins.SetOrigin(c.Request.Context(), o)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newOriginResponse(saved))
}

func (s *Server) getOrigin(c *gin.Context) {
	origins, kb, ok := s.originKB(c)
	if !ok {
		return
	}
	o, err := origins.Origin(c.Request.Context(), kb.WorkspaceID, kb.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newOriginResponse(o))
}

// postSync queues a sync of the knowledge base with its origin: 202, and
// GET .../origin shows its state and, once done, its report. With
// ?dry_run=true it crawls the site within the request instead and answers
// 200 with what a sync would add, change, remove and keep, writing
// nothing.
func (s *Server) postSync(c *gin.Context) {
	origins, kb, ok := s.originKB(c)
	if !ok {
		return
	}
	dryRun, err := parseBool("dry_run", c.Query("dry_run"))
	if err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := origins.Origin(ctx, kb.WorkspaceID, kb.ID); err != nil {
		fail(c, err)
		return
	}
	if dryRun {
		p, err := origins.DryRun(ctx, kb.WorkspaceID, kb.ID)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, p)
		return
	}
	if err := origins.QueueSync(ctx, kb.WorkspaceID, kb.ID); err != nil {
		fail(c, err)
		return
	}
	o, err := origins.Origin(ctx, kb.WorkspaceID, kb.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/knowledge-bases/"+kb.Name+"/origin")
	c.JSON(http.StatusAccepted, newOriginResponse(o))
}
