package assist

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/prompts"
)

// Summary is a handover note for the agent taking a conversation over.
type Summary struct {
	ConversationID string `json:"conversation_id"`
	Summary        string `json:"summary"`
	Language       string `json:"language"`
	Messages       int    `json:"messages"` // how many messages it covers
}

// summaryTurns is how much of a conversation a summary reads; the prompt
// keeps the latest that fit the model's context.
const summaryTurns = 200

// Summarize writes a short handover summary of one of the workspace's
// conversations, in language (the workspace's first language when empty).
func (a *Assistant) Summarize(ctx context.Context, ws parley.Workspace, conversationID, language string) (Summary, error) {
	if err := checkLanguage("language", language); err != nil {
		return Summary{}, err
	}
	conv, err := a.engine.History(ctx, ws.ID, conversationID, summaryTurns)
	if err != nil {
		return Summary{}, err
	}
	if err := a.needModel(); err != nil {
		return Summary{}, err
	}
	history := turns(conv.Messages)
	if len(history) == 0 {
		return Summary{}, parley.Errorf(parley.EInvalid, "conversation %s has no messages to summarise", conv.ID)
	}
	lang := cmp.Or(language, ws.Settings.DefaultLanguage())
	prompt, err := a.render.Summary(prompts.SummaryInput{Transcript: history, Details: details(conv), Language: lang})
	if err != nil {
		return Summary{}, err
	}
	var unusable error
	for attempt := 1; attempt <= summaryAttempts; attempt++ {
		c, err := a.model.Complete(ctx, prompt.Messages, llm.Options{Task: "summary", MaxTokens: prompt.MaxTokens, Temperature: 0.2})
		if err != nil {
			return Summary{}, err
		}
		text, err := prompts.CleanOutput(c.Text, "")
		if err == nil && text == "" {
			err = errors.New("the summary was empty")
		}
		if err == nil {
			return Summary{ConversationID: conv.ID, Summary: text, Language: lang, Messages: prompt.Turns}, nil
		}
		unusable = err
		a.log.WarnContext(ctx, "chat model answer unusable", "task", "summary", "attempt", attempt, "err", err.Error())
	}
	return Summary{}, parley.Errorf(parley.EUnavailable, "the chat model returned no usable summary in %d attempts: %v; try again", summaryAttempts, unusable)
}

// summaryAttempts is how often the model may try to write a usable summary.
const summaryAttempts = 2

// details describes the conversation for the summary prompt. The
// customer's name and e-mail are left out: the model does not need them.
func details(c parley.Conversation) string {
	var b strings.Builder
	if c.Channel != "" {
		fmt.Fprintf(&b, "Channel: %s\n", c.Channel)
	}
	if c.Language != "" {
		fmt.Fprintf(&b, "Customer's language: %s\n", c.Language)
	}
	fmt.Fprintf(&b, "Status: %s", c.Status)
	return b.String()
}
