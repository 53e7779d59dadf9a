// Package llm is what Parley needs from a chat model, whichever server
// answers: the ChatModel interface and its messages, the Tokenizer that
// counts and truncates model tokens, Observe (a log line and Prometheus
// metrics for every model call) and ParseRetryAfter. The client for
// OpenAI-compatible servers is package llm/openai.
package llm

import "context"

// Chat message roles, as the chat-completions wire format names them.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one message of a chat prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options tune one completion.
type Options struct {
	// Task names what the completion is for (suggest, translate, rewrite,
	// summary): it goes into logs, never to the model.
	Task string
	// MaxTokens caps the completion; 0 leaves it to the model.
	MaxTokens int
	// Temperature is the sampling temperature; 0 leaves it to the model.
	Temperature float32
}

// Completion is a model's answer and what it cost.
type Completion struct {
	Text             string
	Model            string // as the server reports it
	FinishReason     string // stop, length, content_filter, ...
	PromptTokens     int    // 0 when the server did not say
	CompletionTokens int    // 0 when the server did not say
}

// ChatModel completes chat prompts. Implementations translate their
// failures into *parley.Error values with the codes unavailable, timeout or
// invalid, and stop as soon as ctx is done.
type ChatModel interface {
	// Complete returns the model's whole answer.
	Complete(ctx context.Context, msgs []Message, opts Options) (Completion, error)
	// Stream calls onDelta with each piece of the answer as it arrives and
	// returns the whole answer at the end. An error from onDelta stops the
	// stream and is returned.
	Stream(ctx context.Context, msgs []Message, opts Options, onDelta func(text string) error) (Completion, error)
}
