package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// listEscalations pages through escalations, oldest first:
// ?status=open|claimed|resolved, ?team=NAME, ?limit=N (1-100, default 50)
// and ?after=CURSOR from the previous page's next_after.
func (s *Server) listEscalations(c *gin.Context) {
	limit, err := queryInt(c, "limit", 50, 1, 100)
	if err != nil {
		fail(c, err)
		return
	}
	list, next, err := s.store.ListEscalations(c.Request.Context(), principal(c).Workspace.ID, parley.EscalationFilter{
		Status: c.Query("status"),
		Team:   c.Query("team"),
		After:  c.Query("after"),
		Limit:  limit,
	})
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"escalations": list}
	if next != "" {
		resp["next_after"] = next
	}
	c.JSON(http.StatusOK, resp)
}

// getEscalation returns an escalation with its full context packet.
func (s *Server) getEscalation(c *gin.Context) {
	e, err := s.store.Escalation(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

type claimRequest struct {
	AgentID string `json:"agent_id"`
}

// claimEscalation gives an open escalation to an agent; 409 names the
// holder when someone else was first.
func (s *Server) claimEscalation(c *gin.Context) {
	var req claimRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	e, err := s.store.ClaimEscalation(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"), req.AgentID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

type resolveRequest struct {
	AgentID    string             `json:"agent_id"`
	Reply      string             `json:"reply"`
	AnsweredBy *parley.AnsweredBy `json:"answered_by"`
}

// resolveEscalation closes the escalation, sending the agent's final reply
// to the customer when there is one.
func (s *Server) resolveEscalation(c *gin.Context) {
	var req resolveRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	e, err := s.store.ResolveEscalation(c.Request.Context(), parley.Resolution{
		WorkspaceID: principal(c).Workspace.ID, EscalationID: c.Param("id"), AgentID: req.AgentID, Reply: req.Reply,
		AnsweredBy: req.AnsweredBy})
	if err != nil {
		fail(c, err)
		return
	}
	s.learn(c, &e)
	c.JSON(http.StatusOK, e)
}

type agentMessageRequest struct {
	AgentID    string             `json:"agent_id"`
	Text       string             `json:"text"`
	Internal   bool               `json:"internal"`
	Resolve    bool               `json:"resolve"`
	AnsweredBy *parley.AnsweredBy `json:"answered_by"`
}

// postAgentMessage sends an agent's reply (or internal note) into a
// conversation handed to a person, optionally resolving the handoff.
func (s *Server) postAgentMessage(c *gin.Context) {
	var req agentMessageRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	post, err := s.store.PostAgentMessage(c.Request.Context(), principal(c).Workspace.ID, parley.AgentMessage{
		ConversationID: c.Param("id"), AgentID: req.AgentID, Text: req.Text, Internal: req.Internal, Resolve: req.Resolve,
		AnsweredBy: req.AnsweredBy,
	})
	if err != nil {
		fail(c, err)
		return
	}
	if req.Resolve {
		s.learn(c, &post.Escalation)
	}
	c.JSON(http.StatusOK, post)
}

// headerNextAfter carries the cursor of the next page of a JSON Lines
// response, which has no envelope to put it in.
const headerNextAfter = "X-Next-After"

// resolvedConversations writes resolved conversations as JSON Lines in the
// format `parley ingest --kind conversation` reads: ?since=RFC3339 (default:
// all), ?limit=N (1-10000, default 1000), ?after=CURSOR from the previous
// page's X-Next-After header.
func (s *Server) resolvedConversations(c *gin.Context) {
	var since time.Time
	if raw := c.Query("since"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			fail(c, parley.Errorf(parley.EInvalid, "since must be an RFC 3339 time like 2024-05-01T00:00:00Z, got %q", raw))
			return
		}
		since = t
	}
	limit, err := queryInt(c, "limit", 1000, 1, 10000)
	if err != nil {
		fail(c, err)
		return
	}
	convs, next, err := s.store.ResolvedConversations(c.Request.Context(), principal(c).Workspace.ID, since, c.Query("after"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	if next != "" {
		c.Header(headerNextAfter, next)
	}
	c.Header("Content-Type", "application/x-ndjson")
	c.Status(http.StatusOK)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	for _, conv := range convs {
		ingest.MaskConversation(&conv)
		if err := enc.Encode(conv); err != nil {
			logger(c).WarnContext(c.Request.Context(), "write resolved conversations", "err", err.Error())
			return
		}
	}
}
