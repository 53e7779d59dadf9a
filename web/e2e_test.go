package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/browsertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// stack is the real server on the test database, with a workspace that has
// knowledge, a team with one agent, and admin and agent keys.
type stack struct {
	t      *testing.T
	srv    *httptest.Server
	admin  string
	agent  string
	agenID string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackWith(t, nil)
}

// newStackWith is newStack with set changing the server's options.
func newStackWith(t *testing.T, set func(*api.Options)) *stack {
	t.Helper()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	embedder := retrieval.NewLocal()
	// Agent replies reach the event streams as in production: LISTEN/NOTIFY.
	notifier := db.NewNotifier(log)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = notifier.Run(ctx) }()
	engine := reply.New(db, embedder, reply.Options{Language: reply.NewLanguageDetector(), Classifiers: db, Logger: log})
	opts := api.Options{
		Logger:        log,
		MaxBodyBytes:  1 << 20,
		Ready:         db.Ping,
		ClassifyError: postgres.Classify,
		Knowledge:     knowledge.New(db, ingest.NewPipeline(db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{})), nil, retrieval.LocalModel, log),
		Live:          notifier,
	}
	if set != nil {
		set(&opts)
	}
	s := api.New(db, engine, opts)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		stop()
		<-done
	})
	st := &stack{t: t, srv: srv}
	for role, key := range map[parley.Role]*string{parley.RoleAdmin: &st.admin, parley.RoleAgent: &st.agent} {
		_, secret, err := db.CreateKey(context.Background(), ws.ID, "e2e", role)
		if err != nil {
			t.Fatal(err)
		}
		*key = secret
	}
	st.call("POST", "/v1/knowledge-bases", st.admin, `{"name": "faq"}`, 201)
	st.call("POST", "/v1/knowledge-bases/faq/uploads", st.admin, `{"records": [
		{"id": "delivery", "question": "How long does delivery take?", "answer": "Standard delivery takes 3-5 working days within the EU.", "title": "Delivery times", "url": "https://shop.example/help/delivery"},
		{"id": "returns", "question": "How do I return an item?", "answer": "Start a return from Your orders within 30 days.", "title": "Returns", "url": "https://shop.example/help/returns"},
		{"id": "giftcards", "question": "Do gift cards expire?", "answer": "Gift cards never expire.", "title": "Gift cards", "url": "https://shop.example/help/giftcards"},
		{"id": "payment", "question": "Which payment methods do you accept?", "answer": "We accept cards, PayPal and invoice.", "title": "Payment", "url": "https://shop.example/help/payment"}
	]}`, 200)
	st.call("POST", "/v1/teams", st.admin, `{"name": "support"}`, 201)
	st.call("PUT", "/v1/workspace/settings", st.admin, `{"default_team": "support"}`, 200)
	agent := st.call("POST", "/v1/agents", st.admin, `{"name": "Jana", "email": "jana@shop.example", "team": "support"}`, 201)
	st.agenID = agent["id"].(string)
	return st
}

// call sends a JSON request and fails the test unless the status is want.
func (st *stack) call(method, path, key, body string, want int) map[string]any {
	st.t.Helper()
	req, _ := http.NewRequest(method, st.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		st.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		st.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			st.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return out
}

// widgetKey makes a widget key for the origins.
func (st *stack) widgetKey(origins ...string) string {
	st.t.Helper()
	b, _ := json.Marshal(map[string]any{"name": "site", "allowed_origins": origins})
	return st.call("POST", "/v1/widget-keys", st.admin, string(b), 201)["key"].(string)
}

// demoPage serves the demo page for key on an origin of its own.
func (st *stack) demoPage(key, language string) *httptest.Server {
	page := httptest.NewUnstartedServer(nil)
	page.Start()
	page.Config.Handler = web.DemoPage(web.DemoOptions{API: st.srv.URL, Key: key, Language: language})
	st.t.Cleanup(page.Close)
	return page
}

func TestWidgetAgainstTheServer(t *testing.T) {
	st := newStack(t)
	page := st.demoPage("", "")
	key := st.widgetKey(page.URL)
	page.Config.Handler = web.DemoPage(web.DemoOptions{API: st.srv.URL, Key: key})

	p := browsertest.New(t, 90*time.Second)
	p.Do("open the demo page", chromedp.Navigate(page.URL))
	p.Do("open the widget", chromedp.Click(in(".launch")))
	ask(p, "How long does delivery take?")
	p.WaitFor("the answer with its source", has(".m.bot[data-id]", "3-5 working days")+
		` && `+shadow+`.querySelector('.m.bot[data-id] .src a').href === 'https://shop.example/help/delivery'`, 10*time.Second)
	p.Screenshot("answer")

	ask(p, "I want to talk to a human please")
	p.WaitFor("the handoff notice", shadow+`.querySelectorAll('.m.bot[data-id]').length === 2 && `+has(".status", "Waiting for a person"), 10*time.Second)

	queue := st.call("GET", "/v1/escalations?status=open", st.agent, "", 200)
	items, _ := queue["escalations"].([]any)
	if len(items) != 1 {
		t.Fatalf("open escalations: %v, want one", queue)
	}
	esc := items[0].(map[string]any)
	conv := esc["conversation_id"].(string)
	st.call("POST", "/v1/escalations/"+esc["id"].(string)+"/claim", st.agent, fmt.Sprintf(`{"agent_id": %q}`, st.agenID), 200)

	start := time.Now()
	st.call("POST", "/v1/conversations/"+conv+"/messages", st.agent,
		fmt.Sprintf(`{"agent_id": %q, "text": "Hi, Jana here. Your parcel left our warehouse today."}`, st.agenID), 200)
	took := p.WaitFor("the agent's reply in the widget", has(".m.agent", "Your parcel left our warehouse today"), 2*time.Second)
	t.Logf("agent reply visible in the widget %v after the API call began (%v polling)", time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))

	// An internal note never reaches the visitor.
	st.call("POST", "/v1/conversations/"+conv+"/messages", st.agent,
		fmt.Sprintf(`{"agent_id": %q, "text": "note: customer is a VIP", "internal": true}`, st.agenID), 200)
	st.call("POST", "/v1/conversations/"+conv+"/messages", st.agent,
		fmt.Sprintf(`{"agent_id": %q, "text": "Anything else?"}`, st.agenID), 200)
	p.WaitFor("the second reply", has(".m.agent", "Anything else?"), 2*time.Second)
	if browsertest.Eval[bool](p, has(".m", "VIP")) {
		t.Error("the visitor sees an internal note")
	}
	p.Screenshot("agent-reply")
	p.NoErrors()
}

func TestWidgetRefusedOriginGetsNothing(t *testing.T) {
	st := newStack(t)
	key := st.widgetKey("https://shop.example")
	page := st.demoPage(key, "")

	p := browsertest.New(t, 60*time.Second)
	p.Do("open the page on an origin not allowed", chromedp.Navigate(page.URL))
	p.Do("open the widget", chromedp.Click(in(".launch")))
	ask(p, "How long does delivery take?")
	p.WaitFor("a notice", has(".status", "not available")+` || `+has(".m.system", "went wrong"), 10*time.Second)
	if n := browsertest.Eval[int](p, shadow+`.querySelectorAll('.m.bot, .m.agent').length`); n != 0 {
		t.Errorf("%d bot or agent messages on a refused origin", n)
	}
	p.Screenshot("refused")
	// The API answered nothing a script on that page can read: no CORS grant.
	req, _ := http.NewRequest("OPTIONS", st.srv.URL+"/v1/widget/session", nil)
	req.Header.Set("Origin", page.URL)
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight from a refused origin got Access-Control-Allow-Origin %q", got)
	}
}
