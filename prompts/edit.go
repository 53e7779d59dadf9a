package prompts

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

// TranslateInput is a text to translate, its protected spans already
// replaced by markers (see Protect).
type TranslateInput struct {
	Text   string
	Source string // language code of Text
	Target string // language code of the translation
}

type translateData struct {
	Nonce  string
	Text   string
	Source string
	Target string
}

// Translate renders the translation prompt.
func (r *Renderer) Translate(in TranslateInput) (Prompt, error) {
	if err := parley.CheckLanguage("source_language", in.Source); err != nil {
		return Prompt{}, err
	}
	if err := parley.CheckLanguage("target_language", in.Target); err != nil {
		return Prompt{}, err
	}
	msgs, err := r.render("translate", translateData{Nonce: r.nonce(), Text: in.Text, Source: in.Source, Target: in.Target})
	if err != nil {
		return Prompt{}, err
	}
	return r.textPrompt(msgs, in.Text, 2)
}

// RewriteInput is a text to rewrite, protected spans already replaced by
// markers (see Protect).
type RewriteInput struct {
	Text        string
	Action      string // one of RewriteActions
	Instruction string // the agent's own wishes, optional
	Language    string // of the result
}

type rewriteData struct {
	Nonce       string
	Text        string
	Action      string
	Instruction string
	Language    string
}

// Rewrite renders the rewrite prompt.
func (r *Renderer) Rewrite(in RewriteInput) (Prompt, error) {
	if !ValidAction(in.Action) {
		return Prompt{}, parley.Errorf(parley.EInvalid, "unknown action %q", in.Action)
	}
	if err := parley.CheckLanguage("language", in.Language); err != nil {
		return Prompt{}, err
	}
	msgs, err := r.render("rewrite", rewriteData{Nonce: r.nonce(), Text: in.Text, Action: in.Action, Instruction: in.Instruction, Language: in.Language})
	if err != nil {
		return Prompt{}, err
	}
	growth := 2
	if in.Action == "expand" {
		growth = 3
	}
	return r.textPrompt(msgs, in.Text, growth)
}

// minTextReplyTokens is the smallest completion budget of a translation or
// rewrite.
const minTextReplyTokens = 256

// textPrompt budgets a prompt whose answer is about as long as text (at most
// growth times as long, in tokens): the completion gets that, within the
// context left by the prompt, and never less than text itself needs.
func (r *Renderer) textPrompt(msgs []llm.Message, text string, growth int) (Prompt, error) {
	n := r.tok.CountMessages(msgs)
	in := r.tok.Count(text)
	want := max(in*growth+64, minTextReplyTokens)
	room := r.contextTokens - n
	if room < in+32 {
		return Prompt{}, r.tooLong("the text", in)
	}
	return Prompt{Messages: msgs, MaxTokens: min(want, room), Tokens: n}, nil
}
