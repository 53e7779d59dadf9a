// Package prompts holds the prompt templates of the assist tasks (suggest,
// translate, rewrite, summary) and renders them for a chat model: untrusted
// text goes inside fenced data blocks, protected spans (placeholders, links,
// numbers, glossary terms) are replaced by markers and restored, and
// conversations and knowledge are packed to the model's token budget.
package prompts

import (
	"embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Knowledge is one retrieved piece of knowledge a prompt may use.
type Knowledge struct {
	SourceID int64
	Title    string
	Text     string
}

// Turn is one message of a conversation as the prompts show it. Role is
// customer, agent, bot or system.
type Turn struct {
	Role string
	Text string
}

// Prompt is a rendered prompt, ready for a ChatModel.
type Prompt struct {
	Messages []llm.Message
	// MaxTokens is the completion budget: the model's context minus the
	// prompt, capped by what the task needs.
	MaxTokens int
	// Tokens counts the prompt's tokens as the model sees them.
	Tokens int
	// Knowledge is what was packed into the prompt, best first: a prefix
	// of the input, less what did not fit.
	Knowledge []Knowledge
	// Turns is how many conversation turns the prompt kept (the latest).
	Turns int
}

// RendererOptions configure a Renderer.
type RendererOptions struct {
	// ContextTokens is the model's context window (default 8192).
	ContextTokens int
	// Nonce returns the id of a prompt's data blocks; the default is
	// random. Tests fix it to compare against golden files.
	Nonce func() string
}

// Renderer renders the prompt templates compiled into the binary, within a
// token budget. It is safe for concurrent use.
type Renderer struct {
	tok           *llm.Tokenizer
	contextTokens int
	nonce         func() string
	tmpl          *template.Template
}

// DefaultContextTokens is the context window assumed when none is given.
const DefaultContextTokens = 8192

// NewRenderer parses the embedded templates.
func NewRenderer(tok *llm.Tokenizer, opts RendererOptions) (*Renderer, error) {
	if opts.ContextTokens <= 0 {
		opts.ContextTokens = DefaultContextTokens
	}
	if opts.Nonce == nil {
		opts.Nonce = newNonce
	}
	tmpl, err := template.New("prompts").Option("missingkey=error").Funcs(template.FuncMap{
		"fence":    fence,
		"langName": LanguageName,
		"titled":   titled,
	}).ParseFS(templateFS, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse prompt templates: %w", err)
	}
	return &Renderer{tok: tok, contextTokens: opts.ContextTokens, nonce: opts.Nonce, tmpl: tmpl}, nil
}

// render executes the system and user templates of a task.
func (r *Renderer) render(task string, data any) ([]llm.Message, error) {
	var sys, user strings.Builder
	if err := r.tmpl.ExecuteTemplate(&sys, task+"_system", data); err != nil {
		return nil, fmt.Errorf("render %s system prompt: %w", task, err)
	}
	if err := r.tmpl.ExecuteTemplate(&user, task+"_user", data); err != nil {
		return nil, fmt.Errorf("render %s user prompt: %w", task, err)
	}
	return []llm.Message{
		{Role: llm.RoleSystem, Content: strings.TrimSpace(sys.String())},
		{Role: llm.RoleUser, Content: strings.TrimSpace(user.String())},
	}, nil
}

func titled(title, text string) string {
	if title = strings.TrimSpace(title); title == "" {
		return text
	}
	return "Title: " + title + "\n\n" + text
}

// tooLong is the error for input the model's context cannot hold.
func (r *Renderer) tooLong(what string, tokens int) error {
	return parley.Errorf(parley.EInvalid, "%s has %d tokens, too many for the chat model's context of %d tokens", what, tokens, r.contextTokens)
}
