package api

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// The console's knowledge pages: what they show is read here and rendered
// by web/console/templates (knowledge, kb, source); changes go through the
// API from web/console/static/knowledge.js.

// sourcesPerPage is how many sources the knowledge base page lists at once.
const sourcesPerPage = 50

func (s *Server) knowledgeData(c *gin.Context) (any, error) {
	return s.store.ListKBs(c.Request.Context(), principal(c).Workspace.ID)
}

// kbPageData is the knowledge base page: a page of its sources (after the
// source id After) and where the next page starts (0: none).
type kbPageData struct {
	KB        parley.KnowledgeBase
	Sources   []parley.Source
	After     int64
	NextAfter int64
	// Origin is the website the knowledge base is synced from, if any.
	Origin *parley.Origin
}

// SyncState is the message key of the origin's sync state.
func (d kbPageData) SyncState() string {
	if d.Origin == nil || d.Origin.SyncState == "" {
		return "kb.sync.never"
	}
	return "kb.sync." + d.Origin.SyncState
}

func (s *Server) kbData(c *gin.Context) (any, error) {
	ctx, ws := c.Request.Context(), principal(c).Workspace.ID
	kb, err := s.store.KB(ctx, ws, c.Param("kb"))
	if err != nil {
		return nil, err
	}
	after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil || after < 0 {
		return nil, parley.Errorf(parley.EInvalid, "after must be a source id")
	}
	srcs, err := s.store.ListSources(ctx, ws, kb.ID, after, sourcesPerPage)
	if err != nil {
		return nil, err
	}
	d := kbPageData{KB: kb, Sources: srcs, After: after}
	if len(srcs) == sourcesPerPage {
		d.NextAfter = srcs[len(srcs)-1].ID
	}
	if s.opts.Origins != nil {
		o, err := s.opts.Origins.Origin(ctx, ws, kb.ID)
		switch {
		case err == nil:
			d.Origin = &o
		case parley.ErrorCode(err) != parley.ENotFound:
			return nil, err
		}
	}
	return d, nil
}

// sourcePageData is one source with its chunks as stored.
type sourcePageData struct {
	KB     parley.KnowledgeBase
	Source parley.Source
	Chunks []parley.StoredChunk
}

func (s *Server) sourceData(c *gin.Context) (any, error) {
	ctx, ws := c.Request.Context(), principal(c).Workspace.ID
	kb, err := s.store.KB(ctx, ws, c.Param("kb"))
	if err != nil {
		return nil, err
	}
	ref, err := sourceRef(c.Param("source"), c.Query("by"))
	if err != nil {
		return nil, err
	}
	src, chunks, err := s.store.SourceChunks(ctx, ws, kb.ID, ref)
	if err != nil {
		return nil, err
	}
	return sourcePageData{KB: kb, Source: src, Chunks: chunks}, nil
}
