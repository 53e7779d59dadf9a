package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/reply"
)

// assistant returns the configured assistant, or answers 503.
func (s *Server) assistant(c *gin.Context) (Assistant, bool) {
	if s.opts.Assistant == nil {
		fail(c, parley.Errorf(parley.EUnavailable, "agent assist is not configured on this server"))
		return nil, false
	}
	return s.opts.Assistant, true
}

type suggestRequest struct {
	ConversationID string `json:"conversation_id"`
	Messages       []struct {
		Role string `json:"role"`
		Text string `json:"text"`
	} `json:"messages"`
	Limit    int    `json:"limit"`
	Tone     string `json:"tone"`
	Language string `json:"language"`
}

// suggestions returns replies an agent could send next: answers from the
// knowledge and, with a chat model, a grounded draft. With ?stream=true the
// answer is a stream of server-sent events: "knowledge" (the knowledge
// suggestions, at once), "delta" (pieces of the draft as the model writes
// them), "error" (the model failed: the knowledge suggestions still
// stand), "retract" (the draft the deltas showed is not used: remove it),
// then "done" with the final suggestions.
func (s *Server) suggestions(c *gin.Context) {
	a, ok := s.assistant(c)
	if !ok {
		return
	}
	var body suggestRequest
	if err := bindJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	stream, err := assistBoolQuery(c, "stream")
	if err != nil {
		fail(c, err)
		return
	}
	req := assist.SuggestRequest{
		Workspace: principal(c).Workspace, ConversationID: body.ConversationID,
		Limit: body.Limit, Tone: body.Tone, Language: body.Language,
	}
	for _, m := range body.Messages {
		req.Messages = append(req.Messages, parley.Message{Role: m.Role, Text: m.Text})
	}
	if stream {
		s.streamSuggestions(c, a, req)
		return
	}
	res, err := a.Suggest(c.Request.Context(), req)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// streamSuggestions answers with server-sent events. Errors before the
// first event are ordinary JSON errors; after it, an "error" event. The
// request's context goes down to the model, so a client that disconnects
// cancels the model call.
func (s *Server) streamSuggestions(c *gin.Context, a Assistant, req assist.SuggestRequest) {
	ctx := c.Request.Context()
	started := false
	send := func(event string, data any) error {
		if !started {
			started = true
			c.Header("Cache-Control", "no-cache")
			c.Header("X-Accel-Buffering", "no") // no proxy buffering
			c.Status(http.StatusOK)
		}
		c.SSEvent(event, data)
		c.Writer.Flush()
		return ctx.Err() // the client went away: stop
	}
	req.OnKnowledge = func(res assist.Suggestions) error { return send("knowledge", res) }
	deltas := false
	req.OnDelta = func(text string) error {
		deltas = true
		return send("delta", gin.H{"text": text})
	}
	// retract tells a client that shows the deltas to take the draft back:
	// the model failed, or its draft was dropped (no citation, a source
	// not retrieved, no answer). gen says why.
	retract := func(gen reply.Generation) {
		if deltas && gen.Status != reply.GenGenerated {
			_ = send("retract", gin.H{"status": gen.Status, "reason": gen.Reason})
		}
	}

	res, err := a.Suggest(ctx, req)
	switch {
	case err != nil && !started:
		fail(c, err)
	case err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil):
		logger(c).InfoContext(ctx, "suggestion stream ended: the client went away")
	case err != nil:
		code := parley.ErrorCode(err)
		if code == parley.EInternal {
			logger(c).ErrorContext(ctx, "request failed", "err", err.Error())
		}
		_ = send("error", errorDetail{Code: code, Message: parley.ErrorMessage(err), RequestID: requestID(c)})
		retract(reply.Generation{Status: reply.GenFailed, Reason: parley.ErrorMessage(err)})
	default:
		if e := res.Generation.Error; e != nil {
			_ = send("error", errorDetail{Code: e.Code, Message: e.Message, RequestID: requestID(c)})
		}
		retract(res.Generation)
		_ = send("done", res)
	}
}

func assistBoolQuery(c *gin.Context, key string) (bool, error) {
	return parseBool(key, c.Query(key))
}

type translateRequest struct {
	Text           *string `json:"text"`
	TargetLanguage string  `json:"target_language"`
	SourceLanguage string  `json:"source_language"`
}

// translate translates a text, keeping placeholders, links, numbers,
// markup and the workspace's glossary intact.
func (s *Server) translate(c *gin.Context) {
	a, ok := s.assistant(c)
	if !ok {
		return
	}
	var body translateRequest
	if err := bindJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	if body.Text == nil {
		fail(c, parley.Errorf(parley.EInvalid, "text is required"))
		return
	}
	res, err := a.Translate(c.Request.Context(), assist.TranslateRequest{
		Workspace: principal(c).Workspace, Text: *body.Text,
		TargetLanguage: body.TargetLanguage, SourceLanguage: body.SourceLanguage,
	})
	assistRespond(c, res, err)
}

type rewriteRequest struct {
	Text        *string `json:"text"`
	Action      string  `json:"action"`
	Instruction string  `json:"instruction"`
	Language    string  `json:"language"`
}

// rewrite edits a reply: improve, fix_grammar, shorten, expand, friendly,
// formal or simplify.
func (s *Server) rewrite(c *gin.Context) {
	a, ok := s.assistant(c)
	if !ok {
		return
	}
	var body rewriteRequest
	if err := bindJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	if body.Text == nil {
		fail(c, parley.Errorf(parley.EInvalid, "text is required"))
		return
	}
	res, err := a.Rewrite(c.Request.Context(), assist.RewriteRequest{
		Workspace: principal(c).Workspace, Text: *body.Text,
		Action: body.Action, Instruction: body.Instruction, Language: body.Language,
	})
	assistRespond(c, res, err)
}

type summaryRequest struct {
	Language string `json:"language"`
}

// summary writes a handover summary of a conversation. The body is
// optional: {"language": "de"} (default: the workspace's first language).
func (s *Server) summary(c *gin.Context) {
	a, ok := s.assistant(c)
	if !ok {
		return
	}
	var body summaryRequest
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		fail(c, err)
		return
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		c.Request.Body = io.NopCloser(bytes.NewReader(raw))
		if err := bindJSON(c, &body); err != nil {
			fail(c, err)
			return
		}
	}
	res, err := a.Summarize(c.Request.Context(), principal(c).Workspace, c.Param("id"), body.Language)
	assistRespond(c, res, err)
}

func assistRespond(c *gin.Context, v any, err error) {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			logger(c).LogAttrs(c.Request.Context(), slog.LevelInfo, "request cancelled by the client")
		}
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
