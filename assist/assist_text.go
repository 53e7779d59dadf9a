package assist

import (
	"context"
	"errors"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
)

// TranslateRequest asks for a text in another language.
type TranslateRequest struct {
	Workspace      parley.Workspace // as the caller read it (the API, with the key)
	Text           string
	TargetLanguage string
	SourceLanguage string // detected when empty
}

// Translation is a translated text.
type Translation struct {
	Text           string `json:"text"`
	SourceLanguage string `json:"source_language"`
	TargetLanguage string `json:"target_language"`
}

// Translate translates a text, keeping placeholders, links, numbers,
// markup and the workspace's glossary terms exactly as they are.
func (a *Assistant) Translate(ctx context.Context, req TranslateRequest) (Translation, error) {
	if err := reply.CheckText("text", req.Text, MaxAssistChars); err != nil {
		return Translation{}, err
	}
	if req.TargetLanguage == "" {
		return Translation{}, parley.Errorf(parley.EInvalid, "target_language is required")
	}
	if err := checkLanguage("target_language", req.TargetLanguage); err != nil {
		return Translation{}, err
	}
	if err := checkLanguage("source_language", req.SourceLanguage); err != nil {
		return Translation{}, err
	}
	if err := a.needModel(); err != nil {
		return Translation{}, err
	}
	ws := req.Workspace
	src := req.SourceLanguage
	if src == "" {
		src = a.engine.DetectAnyLanguage(req.Text, ws.Settings.DefaultLanguage())
	}
	res := Translation{Text: req.Text, SourceLanguage: src, TargetLanguage: req.TargetLanguage}
	p := prompts.Protect(req.Text, prompts.ProtectOptions{Numbers: true, Markdown: true, Glossary: ws.Settings.Glossary})
	if strings.EqualFold(src, req.TargetLanguage) || !p.HasWords() {
		return res, nil // nothing to translate
	}
	prompt, err := a.render.Translate(prompts.TranslateInput{Text: p.Text, Source: src, Target: req.TargetLanguage})
	if err != nil {
		return Translation{}, err
	}
	res.Text, err = a.completeProtected(ctx, "translate", prompt, p, 0.1)
	return res, err
}

// RewriteRequest asks for a text to be edited.
type RewriteRequest struct {
	Workspace   parley.Workspace // as the caller read it (the API, with the key)
	Text        string
	Action      string // one of prompts.RewriteActions
	Instruction string // optional wishes of the agent
	Language    string // of the result; the text's own when empty
}

// Rewrite is an edited text.
type Rewrite struct {
	Text     string `json:"text"`
	Action   string `json:"action"`
	Language string `json:"language"`
}

// MaxInstructionChars caps a rewrite's instruction.
const MaxInstructionChars = 500

// Rewrite edits a text as the action says, in its own language unless
// another is asked for. Placeholders, links, code and glossary terms stay.
func (a *Assistant) Rewrite(ctx context.Context, req RewriteRequest) (Rewrite, error) {
	if err := reply.CheckText("text", req.Text, MaxAssistChars); err != nil {
		return Rewrite{}, err
	}
	if !prompts.ValidAction(req.Action) {
		if req.Action == "" {
			return Rewrite{}, parley.Errorf(parley.EInvalid, "action is required: use one of %s", strings.Join(prompts.RewriteActions, ", "))
		}
		return Rewrite{}, parley.Errorf(parley.EInvalid, "unknown action %q: use one of %s", req.Action, strings.Join(prompts.RewriteActions, ", "))
	}
	if n := len([]rune(req.Instruction)); n > MaxInstructionChars {
		return Rewrite{}, parley.Errorf(parley.ETooLarge, "instruction has %d characters; the limit is %d", n, MaxInstructionChars)
	}
	if err := checkLanguage("language", req.Language); err != nil {
		return Rewrite{}, err
	}
	if err := a.needModel(); err != nil {
		return Rewrite{}, err
	}
	ws := req.Workspace
	lang := req.Language
	if lang == "" {
		lang = a.engine.DetectAnyLanguage(req.Text, ws.Settings.DefaultLanguage())
	}
	p := prompts.Protect(req.Text, prompts.ProtectOptions{Glossary: ws.Settings.Glossary})
	prompt, err := a.render.Rewrite(prompts.RewriteInput{Text: p.Text, Action: req.Action, Instruction: strings.TrimSpace(req.Instruction), Language: lang})
	if err != nil {
		return Rewrite{}, err
	}
	text, err := a.completeProtected(ctx, "rewrite", prompt, p, 0.3)
	return Rewrite{Text: text, Action: req.Action, Language: lang}, err
}

// protectedAttempts is how often a model may try to keep the protected
// spans before the task fails.
const protectedAttempts = 2

// completeProtected runs the prompt, cleans the answer (prompts.CleanOutput)
// and restores the protected spans in it, asking once more when the model
// lost one, leaked prompt markers or answered nothing.
func (a *Assistant) completeProtected(ctx context.Context, task string, prompt prompts.Prompt, p prompts.Protected, temperature float32) (string, error) {
	var lost error
	for attempt := 1; attempt <= protectedAttempts; attempt++ {
		c, err := a.model.Complete(ctx, prompt.Messages, llm.Options{Task: task, MaxTokens: prompt.MaxTokens, Temperature: temperature})
		if err != nil {
			return "", err
		}
		if err := cut(c); err != nil {
			return "", err
		}
		text, err := prompts.CleanOutput(c.Text, p.Text)
		if err == nil && text == "" {
			err = errors.New("the model's answer was empty")
		}
		if err == nil {
			text, err = p.Restore(text)
		}
		if err == nil {
			return text, nil
		}
		lost = err
		a.log.WarnContext(ctx, "chat model answer unusable", "task", task, "attempt", attempt, "err", err.Error())
	}
	return "", parley.Errorf(parley.EUnavailable,
		"the chat model did not keep the protected text (placeholders, links, numbers, markup, glossary terms) intact and free of prompt markers in %d attempts: %v; try again",
		protectedAttempts, lost)
}
