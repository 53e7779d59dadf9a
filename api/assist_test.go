package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

const assistBodyLimit = 64 << 10

// newAssistEnv is newEnv with agent assist; fake is the fake model server,
// nil for none.
func newAssistEnv(t *testing.T, fake *openaitest.Server, timeout time.Duration) *env {
	t.Helper()
	return newEnvWith(t, withAssistant(t, fake, timeout))
}

// withAssistant sets a server's assistant: drafts from fake (none for nil),
// with a body limit of assistBodyLimit.
func withAssistant(t *testing.T, fake *openaitest.Server, timeout time.Duration) func(*api.Options) {
	t.Helper()
	db := pgtest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tok, err := testTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	render, err := prompts.NewRenderer(tok, prompts.RendererOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := llm.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var model llm.ChatModel
	if fake != nil {
		m, err := openai.NewChatModel(openai.Config{BaseURL: fake.BaseURL(), APIKey: "sk-test", Model: "test-model",
			Timeout: timeout, MaxRetries: 1, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		model = llm.Observe(m, "test-model", metrics, tok, log)
	}
	return func(o *api.Options) {
		o.MaxBodyBytes, o.Metrics = assistBodyLimit, reg
		engine := reply.New(db, retrieval.NewLocal(), reply.Options{Language: detector, Classifiers: db, Logger: log})
		o.Assistant = assist.NewAssistant(engine, assist.NewDrafter(model, render, log))
	}
}

var assistSeedMu sync.Mutex

const refundAnswer = "Orders that have not arrived within 7 working days are refunded in full: start from Your orders > Help."

// seed loads a small FAQ into the workspace and starts a conversation in
// it; it returns the conversation's id.
func (e *env) seedAssist() string {
	e.t.Helper()
	db := pgtest.DB(e.t)
	kb, _, err := db.EnsureKB(context.Background(), e.ws.ID, "faq")
	if err != nil {
		e.t.Fatal(err)
	}
	docs := []ingest.Document{
		{ExternalID: "refund", Kind: ingest.KindFAQ, Title: "Refunds for lost orders", Intent: "refund",
			Question: "My order never arrived, can I get a refund?", Answer: refundAnswer},
		{ExternalID: "delivery", Kind: ingest.KindFAQ, Title: "Delivery times", Intent: "delivery",
			Question: "How long does delivery take?", Answer: "Standard delivery takes 3-5 working days within the EU."},
		{ExternalID: "giftcard", Kind: ingest.KindFAQ, Title: "Gift cards", Intent: "giftcard",
			Question: "Do gift cards expire?", Answer: "Gift cards never expire."},
	}
	pipe := testPipeline(e.t)
	// One ingest at a time: concurrent first ingests race to create the
	// same vector index (CREATE INDEX IF NOT EXISTS is not safe for that).
	assistSeedMu.Lock()
	_, err = pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws.ID, KBID: kb.ID, Docs: docs})
	assistSeedMu.Unlock()
	if err != nil {
		e.t.Fatal(err)
	}
	status, body := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], `{"message": {"text": "My order never arrived. Can I get a refund?"}}`)
	if status != 200 {
		e.t.Fatalf("answer: %d %v", status, body)
	}
	return body["conversation_id"].(string)
}

func assistErrorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func TestAssistWithoutModel(t *testing.T) {
	t.Parallel()
	e := newAssistEnv(t, nil, 0)
	conv := e.seedAssist()
	agent := e.keys[parley.RoleAgent]

	status, body := e.do("POST", "/v1/suggestions", agent, `{"conversation_id": "`+conv+`"}`)
	if status != 200 {
		t.Fatalf("suggestions: %d %v", status, body)
	}
	sugg, _ := body["suggestions"].([]any)
	gen, _ := body["generation"].(map[string]any)
	if len(sugg) == 0 || gen["status"] != "no_model" {
		t.Fatalf("suggestions: %v", body)
	}
	first := sugg[0].(map[string]any)
	if first["kind"] != "knowledge" || first["text"] != refundAnswer || first["confidence"] == nil || len(first["sources"].([]any)) == 0 {
		t.Fatalf("first suggestion %v", first)
	}

	status, body = e.do("POST", "/v1/suggestions", agent, `{"messages": [{"role": "customer", "text": "How long does delivery take to Spain?"}], "limit": 1}`)
	if sugg, _ := body["suggestions"].([]any); status != 200 || len(sugg) != 1 {
		t.Fatalf("suggestions from messages: %d %v", status, body)
	}

	for _, tt := range []struct{ path, body string }{
		{"/v1/translate", `{"text": "Hello there", "target_language": "de"}`},
		{"/v1/rewrite", `{"text": "hello there", "action": "formal"}`},
		{"/v1/conversations/" + conv + "/summary", ``},
	} {
		status, body := e.do("POST", tt.path, agent, tt.body)
		wantError(t, status, body, 503, "unavailable")
		if msg := assistErrorMessage(body); !strings.Contains(msg, "PARLEY_LLM_BASE_URL") || !strings.Contains(msg, "PARLEY_LLM_MODEL") {
			t.Fatalf("%s: message %q does not name the settings", tt.path, msg)
		}
	}

	// Unknown and other workspaces' conversations are not found.
	other := newAssistEnv(t, nil, 0)
	_, body = other.do("POST", "/v1/answer", other.keys[parley.RoleWidget], `{"message": {"text": "hello"}}`)
	otherConv, _ := body["conversation_id"].(string)
	for _, id := range []string{otherConv, "7b1c2a9e-0000-4000-8000-000000000000", "nope"} {
		status, body = e.do("POST", "/v1/conversations/"+id+"/summary", agent, "")
		wantError(t, status, body, 404, "not_found")
		status, body = e.do("POST", "/v1/suggestions", agent, `{"conversation_id": "`+id+`"}`)
		wantError(t, status, body, 404, "not_found")
	}

	// Agent routes need an agent key.
	for _, path := range []string{"/v1/suggestions", "/v1/translate", "/v1/rewrite", "/v1/conversations/" + conv + "/summary"} {
		status, body := e.do("POST", path, e.keys[parley.RoleWidget], `{}`)
		wantError(t, status, body, 403, "forbidden")
	}

	// A stream without a model has the knowledge and the end.
	events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
	if eventNames(events) != "knowledge done" {
		t.Fatalf("events %q", eventNames(events))
	}
}

func TestAssistBadRequests(t *testing.T) {
	t.Parallel()
	e := newAssistEnv(t, nil, 0)
	agent := e.keys[parley.RoleAgent]
	long := strings.Repeat("a", 8001)
	tests := []struct {
		name, path, body string
		status           int
		code, message    string
	}{
		{"translate: text too long", "/v1/translate", `{"text": "` + long + `", "target_language": "de"}`, 413, "too_large", "8001 characters; the limit is 8000"},
		{"translate: empty text", "/v1/translate", `{"text": "   ", "target_language": "de"}`, 400, "invalid", "text is empty"},
		{"translate: no text", "/v1/translate", `{"target_language": "de"}`, 400, "invalid", "text is required"},
		{"translate: no target", "/v1/translate", `{"text": "hi"}`, 400, "invalid", "target_language is required"},
		{"translate: bad target", "/v1/translate", `{"text": "hi", "target_language": "Klingon!"}`, 400, "invalid", "language code"},
		{"translate: unknown field", "/v1/translate", `{"text": "hi", "target": "de"}`, 400, "invalid", "unknown field"},
		{"rewrite: unknown action", "/v1/rewrite", `{"text": "hi", "action": "poem"}`, 400, "invalid", "use one of improve, fix_grammar, shorten, expand, friendly, formal, simplify"},
		{"rewrite: text too long", "/v1/rewrite", `{"text": "` + long + `", "action": "shorten"}`, 413, "too_large", "the limit is 8000"},
		{"rewrite: empty text", "/v1/rewrite", `{"text": "", "action": "shorten"}`, 400, "invalid", "text is empty"},
		{"suggestions: nothing", "/v1/suggestions", `{}`, 400, "invalid", "give conversation_id or messages"},
		{"suggestions: limit", "/v1/suggestions", `{"messages": [{"role": "customer", "text": "hi"}], "limit": 50}`, 400, "invalid", "limit must be from 1 to 10"},
		{"suggestions: tone", "/v1/suggestions", `{"messages": [{"role": "customer", "text": "hi"}], "tone": "rude"}`, 400, "invalid", "unknown tone"},
		{"suggestions: stream flag", "/v1/suggestions?stream=maybe", `{"messages": [{"role": "customer", "text": "hi"}]}`, 400, "invalid", "stream must be true or false"},
		{"suggestions: long message", "/v1/suggestions", `{"messages": [{"role": "customer", "text": "` + long + `"}]}`, 413, "too_large", "the limit is 8000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do("POST", tt.path, agent, tt.body)
			wantError(t, status, body, tt.status, tt.code)
			if !strings.Contains(assistErrorMessage(body), tt.message) {
				t.Fatalf("message %q, want it to contain %q", assistErrorMessage(body), tt.message)
			}
		})
	}
}

var sourceInPrompt = regexp.MustCompile(`knowledge source=(\d+)>>>`)

// fakeLLM plays each task: it cites the first knowledge firstBlock, translates
// by tagging the text, rewrites by upper-casing, summarises in a line.
func fakeLLM(req openaitest.Request) string {
	msgs := req.Messages()
	sys, user := msgs[0].Content, msgs[len(msgs)-1].Content
	switch {
	case strings.Contains(sys, "You draft replies"):
		m := sourceInPrompt.FindStringSubmatch(user)
		if m == nil {
			return "NO_ANSWER"
		}
		return "Sorry about that! You get a full refund [source:" + m[1] + "]."
	case strings.Contains(sys, "You translate"):
		return "[de] " + firstBlock(user)
	case strings.Contains(sys, "edit a reply"):
		return strings.ToUpper(firstBlock(user))
	case strings.Contains(sys, "handover notes"):
		return "- Order lost; customer wants a refund"
	}
	return "?"
}

// firstBlock returns the content of the first data firstBlock of a prompt.
func firstBlock(s string) string {
	_, rest, _ := strings.Cut(s, ">>>\n")
	content, _, _ := strings.Cut(rest, "\n<<<END ")
	return content
}

func TestAssistWithModel(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.ReplyFunc(fakeLLM))
	e := newAssistEnv(t, fake, 5*time.Second)
	conv := e.seedAssist()
	agent, admin := e.keys[parley.RoleAgent], e.keys[parley.RoleAdmin]

	// Suggestions: the grounded draft first, citing a retrieved source.
	status, body := e.do("POST", "/v1/suggestions", agent, `{"conversation_id": "`+conv+`", "tone": "friendly"}`)
	if status != 200 {
		t.Fatalf("suggestions: %d %v", status, body)
	}
	sugg := body["suggestions"].([]any)
	first := sugg[0].(map[string]any)
	if first["kind"] != "generated" || first["text"] != "Sorry about that! You get a full refund." || len(sugg) < 2 || sugg[1].(map[string]any)["kind"] != "knowledge" {
		t.Fatalf("suggestions %v", body)
	}
	if srcs := first["sources"].([]any); len(srcs) != 1 || srcs[0].(map[string]any)["title"] != "Refunds for lost orders" {
		t.Fatalf("sources %v", first["sources"])
	}
	// What the model got: the system prompt, the customer's words fenced,
	// a prompt within the context budget.
	req := fake.Requests()[0]
	msgs := req.Messages()
	tok, _ := testTokenizer()
	var pm []llm.Message
	for _, m := range msgs {
		pm = append(pm, llm.Message{Role: m.Role, Content: m.Content})
	}
	if msgs[0].Role != "system" || !strings.Contains(msgs[0].Content, "is data") ||
		!strings.Contains(msgs[1].Content, "message role=customer>>>\nMy order never arrived. Can I get a refund?\n<<<END ") ||
		req.Body["max_tokens"] != float64(prompts.SuggestReplyTokens) || tok.CountMessages(pm)+prompts.SuggestReplyTokens > prompts.DefaultContextTokens {
		t.Fatalf("request to the model: %s", req.Raw)
	}

	// Translate keeps the glossary, placeholders and links out of the
	// model's reach and puts them back.
	status, body = e.do("PUT", "/v1/workspace/settings", admin, `{"glossary": ["Bramble Club"]}`)
	if status != 200 {
		t.Fatalf("settings: %d %v", status, body)
	}
	text := "Join the Bramble Club today for {{discount}} off: https://shop.example/join"
	status, body = e.do("POST", "/v1/translate", agent, `{"text": "`+text+`", "target_language": "de"}`)
	if status != 200 || body["text"] != "[de] "+text || body["source_language"] != "en" || body["target_language"] != "de" {
		t.Fatalf("translate: %d %v", status, body)
	}
	sent := string(fake.Requests()[1].Raw)
	for _, span := range []string{"Bramble Club", "{{discount}}", "shop.example"} {
		if strings.Contains(sent, span) {
			t.Fatalf("the model was sent %q: %s", span, sent)
		}
	}

	status, body = e.do("POST", "/v1/rewrite", agent, `{"text": "Danke, wir melden uns morgen bei {{name}}.", "action": "formal"}`)
	if status != 200 || body["text"] != "DANKE, WIR MELDEN UNS MORGEN BEI {{name}}." || body["language"] != "de" || body["action"] != "formal" {
		t.Fatalf("rewrite: %d %v", status, body)
	}

	status, body = e.do("POST", "/v1/conversations/"+conv+"/summary", agent, `{"language": "en"}`)
	if status != 200 || body["summary"] != "- Order lost; customer wants a refund" || body["conversation_id"] != conv {
		t.Fatalf("summary: %d %v", status, body)
	}

	// Tokens, requests and latency are exported.
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`parley_llm_tokens_total{kind="prompt",model="test-model"} %d`, 4*openaitest.Usage.Prompt),
		fmt.Sprintf(`parley_llm_tokens_total{kind="completion",model="test-model"} %d`, 4*openaitest.Usage.Completion),
		`parley_llm_requests_total{model="test-model",status="ok"} 4`,
		`parley_llm_request_duration_seconds_count{model="test-model"} 4`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAssistModelFailures(t *testing.T) {
	t.Parallel()
	translate := `{"text": "Your refund of {{amount}} is on its way.", "target_language": "fr"}`
	tests := []struct {
		name      string
		responder openaitest.Responder
		script    []openaitest.Responder
		status    int
		code      string
		message   string
	}{
		{name: "server error", responder: openaitest.Fail(500, "boom"), status: 503, code: "unavailable", message: "HTTP 500"},
		{name: "slow model", responder: openaitest.Slow(5*time.Second, openaitest.Reply("late")), status: 504, code: "timeout", message: "did not answer within 300ms"},
		{name: "malformed JSON", responder: openaitest.Malformed(), status: 503, code: "unavailable", message: "not valid JSON"},
		{name: "bad key", responder: openaitest.Fail(401, "invalid api key"), status: 503, code: "unavailable", message: "API key"},
		{name: "markers dropped twice", responder: openaitest.Reply("Votre remboursement est en route."), status: 503, code: "unavailable", message: "protected text"},
		{name: "rate limited, then fine", responder: openaitest.ReplyFunc(fakeLLM),
			script: []openaitest.Responder{openaitest.Fail(429, "slow down", "Retry-After", "0")}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := openaitest.New(t, tt.responder, tt.script...)
			e := newAssistEnv(t, fake, 300*time.Millisecond)
			status, body := e.do("POST", "/v1/translate", e.keys[parley.RoleAgent], translate)
			if tt.status == 200 {
				if status != 200 || body["text"] != "[de] Your refund of {{amount}} is on its way." {
					t.Fatalf("%d %v", status, body)
				}
				return
			}
			wantError(t, status, body, tt.status, tt.code)
			if !strings.Contains(assistErrorMessage(body), tt.message) {
				t.Fatalf("message %q, want %q", assistErrorMessage(body), tt.message)
			}
		})
	}
}

func TestSuggestionsSurviveAFailingModel(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.Fail(503, "overloaded"))
	e := newAssistEnv(t, fake, 2*time.Second)
	conv := e.seedAssist()
	status, body := e.do("POST", "/v1/suggestions", e.keys[parley.RoleAgent], `{"conversation_id": "`+conv+`"}`)
	gen, _ := body["generation"].(map[string]any)
	genErr, _ := gen["error"].(map[string]any)
	sugg, _ := body["suggestions"].([]any)
	if status != 200 || gen["status"] != "failed" || genErr["code"] != "unavailable" || len(sugg) == 0 || sugg[0].(map[string]any)["kind"] != "knowledge" {
		t.Fatalf("%d %v", status, body)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

func eventNames(evs []sseEvent) string {
	var n []string
	for _, e := range evs {
		n = append(n, e.name)
	}
	return strings.Join(n, " ")
}

// stream posts a streaming suggestions request and reads its events until
// the end, or until stop says so.
func (e *env) streamSuggestions(ctx context.Context, body string, stop func(sseEvent) bool) []sseEvent {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/suggestions?stream=true", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.keys[parley.RoleAgent])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("stream: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var (
		out []sseEvent
		cur sseEvent
	)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			cur.name = strings.TrimPrefix(line, "event:")
		case strings.HasPrefix(line, "data:"):
			cur.data += strings.TrimPrefix(line, "data:")
		case line == "" && cur.name != "":
			out = append(out, cur)
			if stop != nil && stop(cur) {
				return out
			}
			cur = sseEvent{}
		}
	}
	return out
}

func TestSuggestionsStream(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, func(w http.ResponseWriter, r *http.Request, req openaitest.Request) {
		id := sourceInPrompt.FindStringSubmatch(req.Messages()[1].Content)[1]
		openaitest.Stream("You can get ", "a full refund ", "[source:"+id+"].")(w, r, req)
	})
	e := newAssistEnv(t, fake, 5*time.Second)
	conv := e.seedAssist()
	events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
	if got := eventNames(events); got != "knowledge delta delta delta done" {
		t.Fatalf("events %q", got)
	}
	var knowledge, done assist.Suggestions
	if err := json.Unmarshal([]byte(events[0].data), &knowledge); err != nil || len(knowledge.Suggestions) == 0 || knowledge.Suggestions[0].Kind != "knowledge" {
		t.Fatalf("knowledge event %s: %v", events[0].data, err)
	}
	var delta struct{ Text string }
	if err := json.Unmarshal([]byte(events[1].data), &delta); err != nil || delta.Text != "You can get " {
		t.Fatalf("delta event %s: %v", events[1].data, err)
	}
	if err := json.Unmarshal([]byte(events[4].data), &done); err != nil || done.Suggestions[0].Kind != "generated" ||
		done.Suggestions[0].Text != "You can get a full refund." || done.Generation.Status != "generated" {
		t.Fatalf("done event %s: %v", events[4].data, err)
	}
}

// A streamed draft that the final check drops is retracted before done,
// so a client showing the deltas can take it back.
func TestSuggestionsStreamRetractsDroppedDraft(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.Stream("You can get ", "a full refund."))
	e := newAssistEnv(t, fake, 5*time.Second)
	conv := e.seedAssist()
	events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
	if got := eventNames(events); got != "knowledge delta delta retract done" {
		t.Fatalf("events %q", got)
	}
	var retract struct{ Status, Reason string }
	if err := json.Unmarshal([]byte(events[3].data), &retract); err != nil || retract.Status != "dropped" || !strings.Contains(retract.Reason, "cited no source") {
		t.Fatalf("retract event %s: %v", events[3].data, err)
	}
	var done assist.Suggestions
	if err := json.Unmarshal([]byte(events[4].data), &done); err != nil || done.Suggestions[0].Kind != "knowledge" || done.Generation.Status != "dropped" {
		t.Fatalf("done event %s: %v", events[4].data, err)
	}
}

// A model that fails after some deltas: error, then retract, then done.
func TestSuggestionsStreamRetractsAfterModelFailure(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.Hang("Let me check "))
	e := newAssistEnv(t, fake, time.Second)
	conv := e.seedAssist()
	events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
	if got := eventNames(events); got != "knowledge delta error retract done" || !strings.Contains(events[3].data, `"status":"failed"`) {
		t.Fatalf("events %v", events)
	}
}

func TestSuggestionsStreamReportsModelErrors(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.Fail(500, "boom"))
	e := newAssistEnv(t, fake, 2*time.Second)
	conv := e.seedAssist()
	events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
	if got := eventNames(events); got != "knowledge error done" || !strings.Contains(events[1].data, `"code":"unavailable"`) {
		t.Fatalf("events %v", events)
	}
}

// A client that goes away mid-stream cancels the model call.
func TestSuggestionsStreamClientDisconnect(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t, openaitest.Hang("Let me check "))
	e := newAssistEnv(t, fake, 30*time.Second)
	conv := e.seedAssist()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := e.streamSuggestions(ctx, `{"conversation_id": "`+conv+`"}`, func(ev sseEvent) bool { return ev.name == "delta" })
	if eventNames(events) != "knowledge delta" {
		t.Fatalf("events %q", eventNames(events))
	}
	cancel()
	select {
	case <-fake.Canceled():
	case <-time.After(5 * time.Second):
		t.Fatal("the model call was not cancelled when the client went away")
	}
}

// A model that answers 200 with a broken body, or cuts its stream short,
// fails the streamed draft as it fails the plain one: an error event, a
// failed generation, and the model request counted as an error.
func TestSuggestionsStreamReportsBrokenBodies(t *testing.T) {
	t.Parallel()
	cut := func(w http.ResponseWriter, r *http.Request, req openaitest.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Let me"}}]}`+"\n\n")
	}
	for name, responder := range map[string]openaitest.Responder{"malformed": openaitest.Malformed(), "cut short": cut} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := openaitest.New(t, responder)
			e := newAssistEnv(t, fake, 2*time.Second)
			conv := e.seedAssist()
			events := e.streamSuggestions(context.Background(), `{"conversation_id": "`+conv+`"}`, nil)
			names := eventNames(events)
			if names != "knowledge error done" && names != "knowledge delta error retract done" {
				t.Fatalf("events %v, want an error event", events)
			}
			var done assist.Suggestions
			if err := json.Unmarshal([]byte(events[len(events)-1].data), &done); err != nil || done.Generation.Status != "failed" {
				t.Fatalf("done event %s: %v, want generation failed", events[len(events)-1].data, err)
			}
			resp, err := http.Get(e.srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(string(raw), "\n") {
				if strings.HasPrefix(line, "parley_llm_requests_total{") && strings.Contains(line, `status="ok"`) {
					t.Errorf("the broken answer is counted ok: %s", line)
				}
			}
			if !strings.Contains(string(raw), `status="unavailable"} 1`) {
				t.Errorf("metrics do not count the broken answer as unavailable")
			}
		})
	}
}
