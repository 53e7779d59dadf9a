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
	steps := answerSteps(res.Timings)
	s.countAnswer(res)
	var timing strings.Builder
	for _, st := range steps {
		s.metrics.steps.WithLabelValues(st.name).Observe(st.d.Seconds())
		if timing.Len() > 0 {
			timing.WriteString(", ")
		}
		fmt.Fprintf(&timing, "%s;dur=%.3f", st.name, float64(st.d.Microseconds())/1000)
	}
	// Server-Timing (milliseconds) is shown by browsers' developer tools.
	c.Header("Server-Timing", timing.String())
	c.JSON(http.StatusOK, res)
}

type answerStep struct {
	name string
	d    time.Duration
}

// answerSteps lists the engine's step times that ran (generation only runs
// with a chat model).
func answerSteps(t reply.Timings) []answerStep {
	var out []answerStep
	for _, st := range []answerStep{
		{"embed", t.Embed}, {"search", t.Search}, {"rank", t.Rank}, {"customer", t.Customer},
		{"generate", t.Generate}, {"outcome", t.Outcome}, {"total", t.Total},
	} {
		if st.d > 0 {
			out = append(out, st)
		}
	}
	return out
}

// getConversation returns a conversation with its transcript (the last 500
// messages).
func (s *Server) getConversation(c *gin.Context) {
	conv, err := s.store.Conversation(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"), 500)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, conv)
}
