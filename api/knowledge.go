package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// Knowledge changes a workspace's knowledge and then brings what is
// learned from it up to date (knowledge.Service).
type Knowledge interface {
	// Ingest runs one ingest. An upload larger than SyncIngestMax chunks
	// comes back deferred (ingest.Request.DeferAbove), and a background
	// job runs the plan made for it.
	Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error)
	DeleteKB(ctx context.Context, workspaceID, idOrName string) error
	DeleteSource(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) error
	// Learn makes a resolved escalation's question a phrasing of the
	// knowledge the agent named (see Workspace settings' learning).
	Learn(ctx context.Context, ws parley.Workspace, esc parley.Escalation) (parley.Learned, error)
	// Decide approves (adding it to knowledge) or rejects a pending phrasing.
	Decide(ctx context.Context, workspaceID, id string, approve bool) (parley.Phrasing, error)
}

// knowledgeChanges returns the Knowledge, or answers 503 and returns nil
// when the server has none.
func (s *Server) knowledgeChanges(c *gin.Context) Knowledge {
	if s.opts.Knowledge == nil {
		fail(c, parley.Errorf(parley.EUnavailable, "knowledge changes are not enabled on this server"))
	}
	return s.opts.Knowledge
}

type createKBRequest struct {
	Name string `json:"name"`
}

func (s *Server) createKB(c *gin.Context) {
	var req createKBRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	kb, err := s.store.CreateKB(c.Request.Context(), principal(c).Workspace.ID, req.Name)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, kb)
}

func (s *Server) listKBs(c *gin.Context) {
	kbs, err := s.store.ListKBs(c.Request.Context(), principal(c).Workspace.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"knowledge_bases": kbs})
}

func (s *Server) getKB(c *gin.Context) {
	kb, ok := s.kbFromPath(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, kb)
}

func (s *Server) deleteKB(c *gin.Context) {
	k := s.knowledgeChanges(c)
	if k == nil {
		return
	}
	if err := k.DeleteKB(c.Request.Context(), principal(c).Workspace.ID, c.Param("kb")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// listSources pages through a knowledge base's sources: ?limit=N (1-1000,
// default 100) and ?after=ID from the previous page's next_after.
func (s *Server) listSources(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	kb, ok := s.kbFromPath(c)
	if !ok {
		return
	}
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		fail(c, err)
		return
	}
	after, err := queryInt(c, "after", 0, 0, 1<<62)
	if err != nil {
		fail(c, err)
		return
	}
	srcs, err := s.store.ListSources(ctx, ws, kb.ID, int64(after), limit)
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"knowledge_base": kb, "sources": srcs}
	if len(srcs) == limit {
		resp["next_after"] = srcs[len(srcs)-1].ID
	}
	c.JSON(http.StatusOK, resp)
}

func (s *Server) deleteSource(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).Workspace.ID
	k := s.knowledgeChanges(c)
	if k == nil {
		return
	}
	kb, ref, ok := s.sourceFromPath(c)
	if !ok {
		return
	}
	if err := k.DeleteSource(ctx, ws, kb.ID, ref); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// sourceChunks answers GET /v1/knowledge-bases/{kb}/sources/{source}/chunks:
// the source with its chunks as stored.
func (s *Server) sourceChunks(c *gin.Context) {
	kb, ref, ok := s.sourceFromPath(c)
	if !ok {
		return
	}
	src, chunks, err := s.store.SourceChunks(c.Request.Context(), principal(c).Workspace.ID, kb.ID, ref)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"source": src, "chunks": chunks})
}

// sourceFromPath reads the :kb and :source path parameters (and ?by), or
// answers the error and returns false.
func (s *Server) sourceFromPath(c *gin.Context) (parley.KnowledgeBase, parley.SourceRef, bool) {
	kb, ok := s.kbFromPath(c)
	if !ok {
		return kb, parley.SourceRef{}, false
	}
	ref, err := sourceRef(c.Param("source"), c.Query("by"))
	if err != nil {
		fail(c, err)
		return kb, ref, false
	}
	return kb, ref, true
}

// sourceRef reads a source named in a path: by its numeric id or its
// external id, either unless by ("id" or "external_id") says which.
func sourceRef(param, by string) (parley.SourceRef, error) {
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil || id <= 0 {
		id = 0
	}
	switch by {
	case "":
		return parley.SourceRef{ID: id, ExternalID: param}, nil
	case "external_id":
		return parley.SourceRef{ExternalID: param}, nil
	case "id":
		if id == 0 {
			return parley.SourceRef{}, parley.Errorf(parley.EInvalid, "by=id needs a numeric source id, got %q", param)
		}
		return parley.SourceRef{ID: id}, nil
	}
	return parley.SourceRef{}, parley.Errorf(parley.EInvalid, "by must be id or external_id, got %q", by)
}

// queryInt reads an optional integer query parameter within [min, max].
func queryInt(c *gin.Context, name string, def, min, max int) (int, error) {
	raw, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < min || v > max {
		return 0, parley.Errorf(parley.EInvalid, "query parameter %s must be an integer from %d to %d, got %q", name, min, max, raw)
	}
	return v, nil
}

// kbFromPath returns the knowledge base the :kb path parameter names (by
// name or id, in the caller's workspace), or answers the error and returns
// false.
func (s *Server) kbFromPath(c *gin.Context) (parley.KnowledgeBase, bool) {
	kb, err := s.store.KB(c.Request.Context(), principal(c).Workspace.ID, c.Param("kb"))
	if err != nil {
		fail(c, err)
		return kb, false
	}
	return kb, true
}
