package reply

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/prompts"
)

// Assistant helps human agents: suggested replies, translation, rewriting
// and handover summaries. Knowledge suggestions need only the engine's
// retrieval; everything else needs a chat model.
type Assistant struct {
	engine *Engine
	model  prompts.ChatModel // nil when no chat model is configured
	render *prompts.Renderer
}

// NewAssistant returns an assistant drafting with model, which may be nil:
// then suggestions come from the knowledge only and the other tasks answer
// unavailable.
func NewAssistant(engine *Engine, model prompts.ChatModel, render *prompts.Renderer) *Assistant {
	return &Assistant{engine: engine, model: model, render: render}
}

// MaxAssistChars is the longest text the assist tasks take.
const MaxAssistChars = 8000

// NoModelMessage says why a task that needs a chat model cannot run.
const NoModelMessage = "no chat model is configured: set PARLEY_LLM_BASE_URL and PARLEY_LLM_MODEL"

func (a *Assistant) needModel() error {
	if a.model == nil {
		return parley.Errorf(parley.EUnavailable, NoModelMessage)
	}
	return nil
}

// checkText validates a text given to the engine or an assist task: valid
// UTF-8, not blank, at most max characters.
func checkText(field, text string, max int) error {
	if !utf8.ValidString(text) {
		return parley.Errorf(parley.EInvalid, "%s is not valid UTF-8", field)
	}
	if strings.TrimSpace(text) == "" {
		return parley.Errorf(parley.EInvalid, "%s is empty", field)
	}
	if n := utf8.RuneCountInString(text); n > max {
		return parley.Errorf(parley.ETooLarge, "%s has %d characters; the limit is %d", field, n, max)
	}
	return nil
}

// checkLanguage checks an optional language code.
func checkLanguage(field, code string) error {
	if code == "" {
		return nil
	}
	return prompts.CheckLanguage(field, code)
}

// markerLine matches a data-block marker a model echoed back.
var markerLine = regexp.MustCompile(`(?m)^\s*<<<(DATA|END) [^\n]*>>>\s*$\n?`)

// cleanOutput trims a model's answer and drops echoed block markers.
func cleanOutput(s string) string {
	return strings.TrimSpace(markerLine.ReplaceAllString(s, ""))
}

// cut reports a completion that hit its token limit.
func cut(c prompts.Completion) error {
	if c.FinishReason == "length" {
		return parley.Errorf(parley.EUnavailable, "the chat model's answer was cut off at its token limit; try a shorter text")
	}
	return nil
}

// canceled reports whether err comes from the caller going away.
func canceled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || ctx.Err() != nil
}
