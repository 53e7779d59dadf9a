package prompts

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

// SuggestInput is what a suggested reply is drafted from.
type SuggestInput struct {
	Transcript []Turn      // oldest first; the reply answers the last customer turn
	Knowledge  []Knowledge // best first
	Language   string      // of the reply
	Tone       string      // one of Tones, or empty
}

// SuggestReplyTokens is the completion budget of a suggested reply.
const SuggestReplyTokens = 512

type suggestData struct {
	Nonce      string
	Language   string
	Tone       string
	Knowledge  []Knowledge
	Transcript []Turn
}

// Suggest renders the prompt for a grounded reply draft. The conversation
// takes at most half the room left by the reply budget (latest turns
// first); the knowledge fills the rest, best first.
func (r *Renderer) Suggest(in SuggestInput) (Prompt, error) {
	if err := parley.CheckLanguage("language", in.Language); err != nil {
		return Prompt{}, err
	}
	if !ValidTone(in.Tone) {
		return Prompt{}, parley.Errorf(parley.EInvalid, "unknown tone %q", in.Tone)
	}
	avail := r.contextTokens - SuggestReplyTokens
	d := suggestData{Nonce: r.nonce(), Language: in.Language, Tone: in.Tone}
	fit, err := r.fitTurns(in.Transcript, avail/2, func(t []Turn) ([]llm.Message, error) {
		d.Transcript = t
		return r.render("suggest", d)
	})
	if err != nil {
		return Prompt{}, err
	}
	d.Transcript = fit.turns
	d.Knowledge = r.packKnowledge(d.Nonce, in.Knowledge, avail-fit.tokens)
	// Knowledge is dropped, least relevant first, until the prompt fits; the
	// prompt without any is the one fitTurns rendered, within avail/2.
	msgs, n := fit.msgs, fit.tokens
	for len(d.Knowledge) > 0 {
		m, err := r.render("suggest", d)
		if err != nil {
			return Prompt{}, err
		}
		if c := r.tok.CountMessages(m); c <= avail {
			msgs, n = m, c
			break
		}
		d.Knowledge = d.Knowledge[:len(d.Knowledge)-1]
	}
	return Prompt{Messages: msgs, MaxTokens: SuggestReplyTokens, Tokens: n, Knowledge: d.Knowledge, Turns: len(d.Transcript)}, nil
}
