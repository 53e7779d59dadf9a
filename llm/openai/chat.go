package openai

import (
	"context"
	"errors"
	"io"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

// ChatModel is a llm.ChatModel on an OpenAI-compatible
// chat-completions endpoint.
type ChatModel struct {
	cfg    Config
	client *openai.Client
	retry  *retrier
}

var _ llm.ChatModel = (*ChatModel)(nil)

// NewChatModel returns a chat model for cfg; BaseURL and Model (or
// AzureDeployment) are required.
func NewChatModel(cfg Config) (*ChatModel, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &ChatModel{cfg: cfg, client: cfg.client(), retry: newRetrier(cfg)}, nil
}

// Name returns the configured model name.
func (m *ChatModel) Name() string { return m.cfg.Model }

// what names the model in error messages.
func (m *ChatModel) what() string { return "the chat model " + m.cfg.Model }

// Complete sends the prompt and returns the whole answer.
func (m *ChatModel) Complete(ctx context.Context, msgs []llm.Message, opts llm.Options) (llm.Completion, error) {
	callCtx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var resp openai.ChatCompletionResponse
	err := m.retry.do(callCtx, func(ctx context.Context) error {
		var err error
		resp, err = m.client.CreateChatCompletion(ctx, m.request(msgs, opts))
		return err
	})
	if err != nil {
		return llm.Completion{}, translate(ctx, err, m.what(), m.cfg.Timeout)
	}
	if len(resp.Choices) == 0 {
		return llm.Completion{}, parley.Errorf(parley.EUnavailable, "%s returned no answer", m.what())
	}
	ch := resp.Choices[0]
	return llm.Completion{
		Text:             ch.Message.Content,
		Model:            resp.Model,
		FinishReason:     string(ch.FinishReason),
		PromptTokens:     resp.Usage.PromptTokens,
		CompletionTokens: resp.Usage.CompletionTokens,
	}, nil
}

// Stream sends the prompt and passes the answer to onDelta piece by piece.
// Opening the stream is retried like Complete; once text has arrived a
// failure ends the call, since what was passed on cannot be taken back.
func (m *ChatModel) Stream(ctx context.Context, msgs []llm.Message, opts llm.Options, onDelta func(string) error) (llm.Completion, error) {
	callCtx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	req := m.request(msgs, opts)
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	var stream *openai.ChatCompletionStream
	err := m.retry.do(callCtx, func(ctx context.Context) error {
		var err error
		stream, err = m.client.CreateChatCompletionStream(ctx, req)
		return err
	})
	if err != nil {
		return llm.Completion{}, translate(ctx, err, m.what(), m.cfg.Timeout)
	}
	defer stream.Close()

	var (
		c    llm.Completion
		text strings.Builder
	)
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.Text = text.String()
			return c, translate(ctx, err, m.what(), m.cfg.Timeout)
		}
		if chunk.Model != "" {
			c.Model = chunk.Model
		}
		if chunk.Usage != nil {
			c.PromptTokens, c.CompletionTokens = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
		}
		if len(chunk.Choices) == 0 {
			continue
		}
		ch := chunk.Choices[0]
		if ch.FinishReason != "" {
			c.FinishReason = string(ch.FinishReason)
		}
		if d := ch.Delta.Content; d != "" {
			text.WriteString(d)
			if err := onDelta(d); err != nil {
				c.Text = text.String()
				return c, err
			}
		}
	}
	c.Text = text.String()
	if c.FinishReason == "" {
		// A stream that ends without saying why was cut off, or was no
		// stream at all (a 200 with a broken body reads as an empty one).
		return c, parley.Errorf(parley.EUnavailable, "%s ended its answer stream without a finish reason: the answer is incomplete or the response was not a valid stream", m.what())
	}
	return c, nil
}

// request builds the chat-completions request. Reasoning models (o1, o3,
// o4, gpt-5) take max_completion_tokens, which also pays for their hidden
// reasoning (so they get four times the budget), and no temperature;
// others take max_tokens, which every compatible server knows.
func (m *ChatModel) request(msgs []llm.Message, opts llm.Options) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: m.cfg.Model, Messages: make([]openai.ChatCompletionMessage, len(msgs))}
	for i, msg := range msgs {
		req.Messages[i] = openai.ChatCompletionMessage{Role: msg.Role, Content: msg.Content}
	}
	if reasoningModel(m.cfg.Model) {
		req.MaxCompletionTokens = opts.MaxTokens * reasoningBudget
		return req
	}
	// max_tokens is what OpenAI-compatible servers (Ollama, vLLM, Azure's
	// older api-versions) take; OpenAI deprecated it for its own models.
	//lint:ignore SA1019 kept deliberately for OpenAI-compatible servers
	req.MaxTokens = opts.MaxTokens
	req.Temperature = opts.Temperature
	return req
}

const reasoningBudget = 4

func reasoningModel(name string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
