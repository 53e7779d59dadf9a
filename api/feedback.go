package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
)

type feedbackRequest struct {
	MessageID int64 `json:"message_id"`
	Helpful   *bool `json:"helpful"`
}

type feedbackResponse struct {
	// HandoffOffered: the answer did not help and the conversation is with
	// the bot, so the customer may ask for a person (POST .../handoff).
	HandoffOffered bool   `json:"handoff_offered"`
	State          string `json:"state"`
}

// postFeedback stores the customer's verdict on a bot answer.
func (s *Server) postFeedback(c *gin.Context) { s.feedback(c, "") }

// feedback stores a verdict on a bot answer of conversation :id, which must
// be visitorID's when that is set.
func (s *Server) feedback(c *gin.Context, visitorID string) {
	var req feedbackRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.MessageID <= 0 || req.Helpful == nil {
		fail(c, parley.Errorf(parley.EInvalid, "message_id (a bot answer's id) and helpful (true or false) are required"))
		return
	}
	ctx, ws := c.Request.Context(), principal(c).Workspace
	if visitorID != "" {
		if _, err := s.visitorConversation(c, visitorID); err != nil {
			fail(c, err)
			return
		}
	}
	state, err := s.store.RecordFeedback(ctx, ws.ID, parley.Feedback{ConversationID: c.Param("id"), MessageID: req.MessageID, Helpful: *req.Helpful})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, feedbackResponse{HandoffOffered: !*req.Helpful && state == parley.StateBot, State: state})
}

// postHandoff hands the conversation to a person at the customer's request.
func (s *Server) postHandoff(c *gin.Context) { s.handoff(c, "") }

func (s *Server) handoff(c *gin.Context, visitorID string) {
	if c.Request.ContentLength > 0 {
		var empty struct{}
		if err := bindJSON(c, &empty); err != nil {
			fail(c, err)
			return
		}
	}
	res, err := s.engine.Handoff(c.Request.Context(), reply.HandoffRequest{
		Workspace: principal(c).Workspace, ConversationID: c.Param("id"), VisitorID: visitorID,
	})
	if err != nil {
		fail(c, err)
		return
	}
	if res.Escalation != nil {
		s.countAnswer(res)
	}
	c.JSON(http.StatusOK, res)
}
