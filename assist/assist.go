// Package assist is agent assist: for a human agent it suggests replies
// (answers from the knowledge and, with a chat model, a draft grounded in
// them), translates and rewrites texts keeping protected spans intact, and
// summarises a conversation for handover. It retrieves through the reply
// engine, renders its prompts with package prompts and asks an
// llm.ChatModel; it has no HTTP in it. Its Drafter, which writes the
// grounded drafts, is also the engine's Grounder for generated answers.
package assist

import (
	"context"
	"errors"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
)

// Drafter asks the chat model, through prompts rendered by package
// prompts: the grounded drafts of suggestions and generated answers, and
// the texts of the other assist tasks.
type Drafter struct {
	model  llm.ChatModel // nil when no chat model is configured
	render *prompts.Renderer
	log    *slog.Logger
}

// NewDrafter returns a drafter asking model, which may be nil: then there
// are no drafts and the tasks needing a model answer unavailable. A nil log
// discards its log lines.
func NewDrafter(model llm.ChatModel, render *prompts.Renderer, log *slog.Logger) *Drafter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Drafter{model: model, render: render, log: log}
}

// Assistant helps human agents: suggested replies, translation, rewriting
// and handover summaries. Knowledge suggestions need only the engine's
// retrieval; everything else needs the drafter's chat model.
type Assistant struct {
	engine *reply.Engine
	*Drafter
}

// NewAssistant returns an assistant retrieving through engine and writing
// with d; with a chat model it loads every language's models now.
func NewAssistant(engine *reply.Engine, d *Drafter) *Assistant {
	if d != nil && d.model != nil {
		// Texts to translate or rewrite may be in any language: no agent
		// waits for a language's models to load.
		engine.LoadAllLanguages()
	}
	return &Assistant{engine: engine, Drafter: d}
}

// MaxAssistChars is the longest text the assist tasks take.
const MaxAssistChars = 8000

// NoModelMessage says why a task that needs a chat model cannot run.
const NoModelMessage = "no chat model is configured: set PARLEY_LLM_BASE_URL and PARLEY_LLM_MODEL"

func (d *Drafter) needModel() error {
	if d.model == nil {
		return parley.Errorf(parley.EUnavailable, NoModelMessage)
	}
	return nil
}

// checkLanguage checks an optional language code.
func checkLanguage(field, code string) error {
	if code == "" {
		return nil
	}
	return parley.CheckLanguage(field, code)
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
