// Package assist is agent assist: for a human agent it suggests replies
// (answers from the knowledge and, with a chat model, a draft grounded in
// them), translates and rewrites texts keeping protected spans intact, and
// summarises a conversation for handover. It retrieves through the reply
// engine, renders its prompts with package prompts and asks an
// llm.ChatModel; it has no HTTP in it. Its Assistant is also the engine's
// Grounder for generated answers.
package assist

import (
	"context"
	"errors"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
)

// Assistant helps human agents: suggested replies, translation, rewriting
// and handover summaries. Knowledge suggestions need only the engine's
// retrieval; everything else needs a chat model.
type Assistant struct {
	engine *reply.Engine
	model  llm.ChatModel // nil when no chat model is configured
	render *prompts.Renderer
}

// NewAssistant returns an assistant drafting with model, which may be nil:
// then suggestions come from the knowledge only and the other tasks answer
// unavailable.
func NewAssistant(engine *reply.Engine, model llm.ChatModel, render *prompts.Renderer) *Assistant {
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

// checkLanguage checks an optional language code.
func checkLanguage(field, code string) error {
	if code == "" {
		return nil
	}
	return prompts.CheckLanguage(field, code)
}

// cut reports a completion that hit its token limit.
func cut(c llm.Completion) error {
	if c.FinishReason == "length" {
		return parley.Errorf(parley.EUnavailable, "the chat model's answer was cut off at its token limit; try a shorter text")
	}
	return nil
}

// canceled reports whether err comes from the caller going away.
func canceled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || ctx.Err() != nil
}
