package prompts

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

// SummaryInput is a conversation to summarise for a handover.
type SummaryInput struct {
	Transcript []Turn // oldest first
	Details    string // what is known about the customer and channel, optional
	Language   string // of the summary
}

// SummaryReplyTokens is the completion budget of a summary.
const SummaryReplyTokens = 400

type summaryData struct {
	Nonce      string
	Language   string
	Details    string
	Transcript []Turn
	Omitted    int
}

// Summary renders the handover summary prompt with as many of the latest
// turns as the context holds.
func (r *Renderer) Summary(in SummaryInput) (Prompt, error) {
	if err := parley.CheckLanguage("language", in.Language); err != nil {
		return Prompt{}, err
	}
	avail := r.contextTokens - SummaryReplyTokens
	d := summaryData{Nonce: r.nonce(), Language: in.Language, Details: in.Details}
	fit, err := r.fitTurns(in.Transcript, avail, func(t []Turn) ([]llm.Message, error) {
		d.Transcript, d.Omitted = t, len(in.Transcript)-len(t)
		return r.render("summary", d)
	})
	if err != nil {
		return Prompt{}, err
	}
	return Prompt{Messages: fit.msgs, MaxTokens: SummaryReplyTokens, Tokens: fit.tokens, Turns: len(fit.turns)}, nil
}
