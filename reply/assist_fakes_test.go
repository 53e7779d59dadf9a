package reply_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

var tokenizer = sync.OnceValues(prompts.NewTokenizer)

// fakeStore is an in-memory reply.Store with one workspace.
type fakeStore struct {
	ws    parley.Workspace
	convs map[string]parley.Conversation // by workspace id + "/" + conversation id
	hits  []parley.Hit
}

func (s *fakeStore) Workspace(_ context.Context, id string) (parley.Workspace, error) {
	if id != s.ws.ID {
		return parley.Workspace{}, parley.Errorf(parley.ENotFound, "workspace not found")
	}
	return s.ws, nil
}

func (s *fakeStore) Conversation(_ context.Context, workspaceID, id string, limit int) (parley.Conversation, error) {
	c, ok := s.convs[workspaceID+"/"+id]
	if !ok {
		return c, parley.Errorf(parley.ENotFound, "conversation %s not found", id)
	}
	if len(c.Messages) > limit {
		c.Messages = c.Messages[len(c.Messages)-limit:]
	}
	return c, nil
}

func (s *fakeStore) Search(context.Context, parley.SearchQuery) ([]parley.Hit, error) {
	return s.hits, nil
}

func (s *fakeStore) StartConversation(context.Context, string, string, parley.Customer, string, string, string, any) (parley.Conversation, parley.Message, error) {
	panic("not used by assist")
}

func (s *fakeStore) AddMessage(context.Context, string, string, string, string, any) (parley.Message, error) {
	panic("not used by assist")
}

func (s *fakeStore) Escalate(context.Context, parley.NewEscalation) (parley.Escalation, parley.Message, error) {
	panic("not used by assist")
}

const (
	wsID      = "11111111-1111-1111-1111-111111111111"
	convID    = "22222222-2222-2222-2222-222222222222"
	otherWS   = "33333333-3333-3333-3333-333333333333"
	otherConv = "44444444-4444-4444-4444-444444444444"
)

var hits = []parley.Hit{
	{ChunkID: 1, SourceID: 17, Kind: "faq", ExternalID: "refund", Title: "Refund policy", GroupKey: "intent:refund", Intent: "refund",
		Answer: "Orders that have not arrived within 7 working days are refunded in full.", Similarity: 0.86, VectorRank: 1, TextRank: 1},
	{ChunkID: 2, SourceID: 18, Kind: "faq", ExternalID: "refund-2", Title: "Refunds", GroupKey: "intent:refund", Intent: "refund",
		Answer: "Orders that have not arrived within 7 working days are refunded in full.", Similarity: 0.8, VectorRank: 2},
	{ChunkID: 3, SourceID: 4, Kind: "faq", ExternalID: "delivery", Title: "Delivery times", GroupKey: "intent:delivery", Intent: "delivery",
		Answer: "Standard delivery takes 3-5 working days within the EU.", Similarity: 0.6, VectorRank: 3, TextRank: 2},
	{ChunkID: 4, SourceID: 9, Kind: "faq", ExternalID: "far", Title: "Gift cards", GroupKey: "intent:gift", Intent: "gift",
		Answer: "Gift cards never expire.", Similarity: 0.1, VectorRank: 4},
}

func newStore() *fakeStore {
	ws := parley.Workspace{ID: wsID, Name: "shop", Settings: parley.DefaultSettings()}
	ws.Settings.Glossary = []string{"Bramble Club"}
	return &fakeStore{
		ws: ws,
		convs: map[string]parley.Conversation{
			wsID + "/" + convID: {ID: convID, WorkspaceID: wsID, Channel: "web", Language: "en", Status: "open",
				Customer: parley.Customer{Name: "Ana Ruiz", Email: "ana@example.com"},
				Messages: []parley.Message{
					{Role: parley.RoleCustomer, Text: "Hi, my order has not arrived."},
					{Role: parley.RoleBot, Text: "Orders usually arrive within 3-5 working days."},
					{Role: parley.RoleCustomer, Text: "It has been nine days now, can I get my money back?"},
				}},
			otherWS + "/" + otherConv: {ID: otherConv, WorkspaceID: otherWS, Messages: []parley.Message{{Role: parley.RoleCustomer, Text: "secret"}}},
		},
		hits: hits,
	}
}

// fakeModel answers from a script of functions, recording every prompt.
type fakeModel struct {
	mu     sync.Mutex
	script []func(msgs []prompts.Message) (string, error)
	calls  [][]prompts.Message
	opts   []prompts.Options
}

func (m *fakeModel) next(msgs []prompts.Message, opts prompts.Options) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, msgs)
	m.opts = append(m.opts, opts)
	if len(m.script) == 0 {
		return "", parley.Errorf(parley.EUnavailable, "nothing scripted")
	}
	f := m.script[0]
	m.script = m.script[1:]
	return f(msgs)
}

func (m *fakeModel) Complete(_ context.Context, msgs []prompts.Message, opts prompts.Options) (prompts.Completion, error) {
	text, err := m.next(msgs, opts)
	return prompts.Completion{Text: text, FinishReason: "stop"}, err
}

func (m *fakeModel) Stream(_ context.Context, msgs []prompts.Message, opts prompts.Options, on func(string) error) (prompts.Completion, error) {
	text, err := m.next(msgs, opts)
	if err != nil {
		return prompts.Completion{}, err
	}
	for _, w := range strings.SplitAfter(text, " ") {
		if err := on(w); err != nil {
			return prompts.Completion{Text: text}, err
		}
	}
	return prompts.Completion{Text: text, FinishReason: "stop"}, nil
}

func (m *fakeModel) Calls() [][]prompts.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func says(text string) func([]prompts.Message) (string, error) {
	return func([]prompts.Message) (string, error) { return text, nil }
}

func fails(code, msg string) func([]prompts.Message) (string, error) {
	return func([]prompts.Message) (string, error) { return "", parley.Errorf(code, "%s", msg) }
}

// echo answers with the text of the prompt's first data block, passed
// through f: a stand-in translator that keeps the markers.
func echo(f func(string) string) func([]prompts.Message) (string, error) {
	return func(msgs []prompts.Message) (string, error) { return f(fenced(msgs[len(msgs)-1].Content)), nil }
}

// fenced returns the content of the first data block in s.
func fenced(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "<<<DATA "):
			in = true
		case strings.HasPrefix(l, "<<<END "):
			return strings.Join(out, "\n")
		case in:
			out = append(out, l)
		}
	}
	return ""
}

// newAssistant returns an assistant on a fake store; model may be nil.
func newAssistant(t *testing.T, store *fakeStore, model prompts.ChatModel) *reply.Assistant {
	t.Helper()
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	render, err := prompts.NewRenderer(tok, prompts.RendererOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// No language detector: loading it takes seconds (half a minute under
	// -race), so languages fall back to the workspace's; the API tests
	// cover detection.
	engine := reply.New(store, retrieval.NewLocal(), nil, log)
	if model == nil {
		return reply.NewAssistant(engine, nil, render)
	}
	return reply.NewAssistant(engine, model, render)
}
