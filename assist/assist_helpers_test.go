package assist_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

var tokenizer = sync.OnceValues(llm.NewTokenizer)

// assistFAQ is the knowledge of the assist tests. Each entry is stored as
// two chunks, its question and its answer. The two refund entries share an
// intent, so they form one answer group citing both; the German entry is
// there for a customer who writes German. The delivery question shares
// enough words with the conversation's question (a similarity of about 0.35
// under the local embedder) to be a usable second suggestion; gift cards and
// the German entry (about 0.1) are under the engine's similarity floor.
const assistFAQ = `id,question,answer,intent,title,language
refund,"My order has not arrived, can I get my money back?",Orders that have not arrived within 7 working days are refunded in full.,refund,Refund policy,en
refund-late,Do you refund late orders?,Orders that have not arrived within 7 working days are refunded in full.,refund,Refunds,en
delivery,"It has been days and my order is not here yet, how long does delivery take?",Standard delivery takes 3-5 working days within the EU.,delivery,Delivery times,en
giftcard,Do gift cards expire?,Gift cards never expire.,giftcard,Gift cards,en
wo-bleibt,Wo bleibt meine Bestellung?,"Bestellungen, die nach 7 Werktagen nicht angekommen sind, erstatten wir vollständig.",refund_de,Erstattungen,de
`

// The customer's conversation in the assist tests.
const (
	firstQuestion = "Hi, my order has not arrived."
	botReply      = "Orders usually arrive within 3-5 working days."
	question      = "It has been nine days now, can I get my money back?"
)

// assistKB is a workspace of the test database with assistFAQ ingested, a
// conversation about a late order, and a conversation of another
// workspace.
type assistKB struct {
	engine  *reply.Engine
	ws      parley.Workspace
	conv    string                         // the customer's conversation
	other   string                         // another workspace's conversation
	sources map[string]retrieval.SourceRef // by external id
}

// newKB sets up an assistKB; the workspace's glossary has "Bramble Club".
func newKB(t *testing.T) *assistKB {
	t.Helper()
	ctx := context.Background()
	db := pgtest.DB(t)
	k := &assistKB{ws: pgtest.Workspace(t), sources: map[string]retrieval.SourceRef{}}

	path := filepath.Join(t.TempDir(), "faq.csv")
	if err := os.WriteFile(path, []byte(assistFAQ), 0o644); err != nil {
		t.Fatal(err)
	}
	kb := ingestFile(t, db, k.ws.ID, path)
	srcs, err := db.ListSources(ctx, k.ws.ID, kb.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		k.sources[s.ExternalID] = retrieval.SourceRef{ID: s.ID, ExternalID: s.ExternalID, Title: s.Title}
	}

	s := k.ws.Settings
	s.Glossary = []string{"Bramble Club"}
	if k.ws, err = db.UpdateSettings(ctx, k.ws.ID, s); err != nil {
		t.Fatal(err)
	}

	conv, err := db.CreateConversation(ctx, k.ws.ID, "web", parley.Customer{Name: "Ana Ruiz", Email: "ana@example.com"}, "en")
	if err != nil {
		t.Fatal(err)
	}
	k.conv = conv.ID
	for _, m := range []struct{ role, text string }{
		{parley.RoleCustomer, firstQuestion},
		{parley.RoleBot, botReply},
		{parley.RoleCustomer, question},
	} {
		if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: k.ws.ID, ConversationID: k.conv, Role: m.role, Text: m.text}); err != nil {
			t.Fatal(err)
		}
	}

	otherWS := pgtest.Workspace(t)
	other, err := db.CreateConversation(ctx, otherWS.ID, "web", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: otherWS.ID, ConversationID: other.ID, Role: parley.RoleCustomer, Text: "secret"}); err != nil {
		t.Fatal(err)
	}
	k.other = other.ID

	// No language detector: loading it takes seconds (half a minute under
	// -race), so languages fall back to the conversation's or the
	// workspace's; the API tests cover detection.
	k.engine = reply.New(db, retrieval.NewLocal(), reply.Options{Classifiers: db})
	return k
}

// source returns the stored source of an entry of assistFAQ.
func (k *assistKB) source(t *testing.T, externalID string) retrieval.SourceRef {
	t.Helper()
	s, ok := k.sources[externalID]
	if !ok {
		t.Fatalf("no source %q was ingested", externalID)
	}
	return s
}

// assistant returns an assistant on the workspace whose chat model is the
// OpenAI-compatible client talking to fake; fake nil means no chat model.
func (k *assistKB) assistant(t *testing.T, fake *openaitest.Server) *assist.Assistant {
	t.Helper()
	return k.assistantTimeout(t, fake, 10*time.Second)
}

// assistantTimeout is assistant with the chat model's timeout per call.
// The client does not retry, so each call is one request to fake.
func (k *assistKB) assistantTimeout(t *testing.T, fake *openaitest.Server, timeout time.Duration) *assist.Assistant {
	t.Helper()
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	render, err := prompts.NewRenderer(tok, prompts.RendererOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fake == nil {
		return assist.NewAssistant(k.engine, assist.NewDrafter(nil, render, nil))
	}
	model, err := openai.NewChatModel(openai.Config{BaseURL: fake.BaseURL(), APIKey: "sk-test", Model: "test-model",
		Timeout: timeout, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return assist.NewAssistant(k.engine, assist.NewDrafter(model, render, nil))
}

// newLLM starts a fake chat model server answering with the script, then
// with errors.
func newLLM(t *testing.T, script ...openaitest.Responder) *openaitest.Server {
	return openaitest.New(t, nil, script...)
}

// sent returns the chat messages of the n-th request fake received.
func sent(t *testing.T, fake *openaitest.Server, n int) []openaitest.Message {
	t.Helper()
	reqs := fake.Requests()
	if len(reqs) <= n {
		t.Fatalf("the model got %d requests, want at least %d", len(reqs), n+1)
	}
	if reqs[n].Method != "POST" || !strings.HasSuffix(reqs[n].Path, "/chat/completions") {
		t.Fatalf("request %d: %s %s", n, reqs[n].Method, reqs[n].Path)
	}
	msgs := reqs[n].Messages()
	if len(msgs) < 2 {
		t.Fatalf("request %d has %d messages: %s", n, len(msgs), reqs[n].Raw)
	}
	return msgs
}

// echo answers with the content of the first data block of the request's
// last message, passed through f: a stand-in translator that keeps the
// markers.
func echo(f func(string) string) openaitest.Responder {
	return openaitest.ReplyFunc(func(req openaitest.Request) string {
		msgs := req.Messages()
		return f(fenced(msgs[len(msgs)-1].Content))
	})
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
