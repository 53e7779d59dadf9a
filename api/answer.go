package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
)

type answerRequest struct {
	ConversationID string          `json:"conversation_id"`
	Customer       parley.Customer `json:"customer"`
	Channel        string          `json:"channel"`
	Message        struct {
		Text *string `json:"text"`
	} `json:"message"`
}

// answer takes a customer's message and answers it or escalates it.
func (s *Server) answer(c *gin.Context) {
	var req answerRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Message.Text == nil {
		fail(c, parley.Errorf(parley.EInvalid, "message.text is required"))
		return
	}
	res, err := s.engine.Answer(c.Request.Context(), reply.Request{
		Workspace:      principal(c).Workspace,
		ConversationID: req.ConversationID,
		Customer:       req.Customer,
		Channel:        req.Channel,
		Text:           *req.Message.Text,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Server-Timing", serverTiming(res.Timings))
	c.JSON(http.StatusOK, res)
}

// serverTiming formats the engine's step times (in milliseconds) for the
// Server-Timing header, which browsers' developer tools show. Steps that
// did not run are left out.
func serverTiming(t reply.Timings) string {
	steps := []struct {
		name string
		d    time.Duration
	}{
		{"embed", t.Embed}, {"search", t.Search}, {"rank", t.Rank}, {"customer", t.Customer},
		{"generate", t.Generate}, {"outcome", t.Outcome}, {"total", t.Total},
	}
	var b strings.Builder
	for _, s := range steps {
		if s.d == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s;dur=%.3f", s.name, float64(s.d.Microseconds())/1000)
	}
	return b.String()
}

// getConversation returns a conversation with its transcript (the last 500
// messages).
func (s *Server) getConversation(c *gin.Context) {
	id := c.Param("id")
	if !parley.IsID(id) {
		fail(c, parley.Errorf(parley.ENotFound, "conversation %q not found", id))
		return
	}
	conv, err := s.store.Conversation(c.Request.Context(), principal(c).Workspace.ID, id, 500)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, conv)
}
