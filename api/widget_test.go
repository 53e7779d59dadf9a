package api_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/ratelimit"
)

const shop = "https://shop.example"

// browser calls the widget routes as a page on origin would.
type browser struct {
	e      *env
	key    string
	origin string
	token  string
}

// widgetKey makes a publishable key for shop through the admin API.
func (e *env) widgetKey(origins ...string) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "site", "allowed_origins": origins})
	status, resp := e.do("POST", "/v1/widget-keys", e.keys[parley.RoleAdmin], string(body))
	if status != 201 || resp["key"] == nil {
		e.t.Fatalf("create widget key: %d %v", status, resp)
	}
	return resp["key"].(string)
}

// call sends a widget request and returns the status, headers and JSON body.
func (b *browser) call(method, path string, body any) (int, http.Header, map[string]any) {
	b.e.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, r)
	if b.key != "" {
		req.Header.Set("Authorization", "Bearer "+b.key)
	}
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	if b.token != "" {
		req.Header.Set("X-Parley-Visitor", b.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

// session starts (or resumes) the visitor's session and keeps its token.
func (b *browser) session(body map[string]any) map[string]any {
	b.e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["visitor_token"] = b.token
	status, _, resp := b.call("POST", "/v1/widget/session", body)
	if status != 200 {
		b.e.t.Fatalf("session: %d %v", status, resp)
	}
	b.token = resp["visitor_token"].(string)
	return resp
}

func (b *browser) say(conv, text string) map[string]any {
	b.e.t.Helper()
	body := map[string]any{"text": text}
	if conv != "" {
		body["conversation_id"] = conv
	}
	status, _, resp := b.call("POST", "/v1/widget/messages", body)
	if status != 200 {
		b.e.t.Fatalf("message %q: %d %v", text, status, resp)
	}
	return resp
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// Preflights and requests are answered with CORS headers for the key's
// origins only; a publishable key reaches nothing but the widget routes
// and reads only the public settings.
func TestWidgetOrigins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("PUT", "/v1/workspace/settings", e.keys[parley.RoleAdmin], `{"sensitive": ["refunds"], "glossary": ["Bramble"], "greeting": "Hi from the shop", "theme": {"color": "#0b5fff"}}`)
	key := e.widgetKey(shop, "http://localhost:3000")

	preflight := func(origin string) (int, http.Header) {
		req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/v1/widget/messages", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-parley-visitor")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	status, h := preflight(shop)
	if status != 204 || h.Get("Access-Control-Allow-Origin") != shop || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Parley-Visitor") ||
		h.Get("Access-Control-Max-Age") != "600" || h.Get("Vary") != "Origin" {
		t.Fatalf("preflight from an allowed origin: %d %v", status, h)
	}
	for _, origin := range []string{"https://evil.example", "https://shop.example.evil.example", ""} {
		if status, h := preflight(origin); status != 403 || h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight from %q: %d, ACAO %q; want 403 and none", origin, status, h.Get("Access-Control-Allow-Origin"))
		}
	}

	b := &browser{e: e, key: key, origin: shop}
	s := b.session(nil)
	settings, _ := s["settings"].(map[string]any)
	if settings["greeting"] != "Hi from the shop" || settings["name"] != e.ws.Name || settings["sensitive"] != nil || settings["glossary"] != nil || settings["answer_threshold"] != nil {
		t.Fatalf("session settings %v, want the public subset only", settings)
	}
	status, h, _ = b.call("POST", "/v1/widget/session", map[string]any{})
	if h.Get("Access-Control-Allow-Origin") != shop {
		t.Fatalf("allowed origin: %d, ACAO %q", status, h.Get("Access-Control-Allow-Origin"))
	}
	for _, origin := range []string{"https://evil.example", ""} {
		bad := &browser{e: e, key: key, origin: origin}
		status, h, body := bad.call("POST", "/v1/widget/session", map[string]any{})
		if status != 403 || errCode(body) != "origin_not_allowed" || h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("origin %q: %d %v ACAO %q; want 403 origin_not_allowed without ACAO", origin, status, body, h.Get("Access-Control-Allow-Origin"))
		}
	}
	// Keys that are not publishable are refused on the widget routes, and
	// the publishable one everywhere else.
	for _, k := range []string{e.keys[parley.RoleAgent], e.keys[parley.RoleWidget]} {
		other := &browser{e: e, key: k, origin: shop}
		if status, _, body := other.call("POST", "/v1/widget/session", map[string]any{}); status != 403 || errCode(body) != "forbidden" {
			t.Fatalf("a key without origins on the widget routes: %d %v", status, body)
		}
	}
	status, body := e.do("POST", "/v1/answer", key, `{"message": {"text": "hello"}}`)
	wantError(t, status, body, 403, "forbidden")
	status, body = e.do("GET", "/v1/workspace", key, "")
	ws, _ := body["settings"].(map[string]any)
	if status != 200 || ws["sensitive"] != nil || ws["glossary"] != nil || ws["answer_threshold"] != nil || ws["greeting"] != "Hi from the shop" {
		t.Fatalf("GET /v1/workspace with a widget key: %d %v, want the public settings only", status, body)
	}

	// Origins can be changed; a key with none is off every page.
	keys, _ := pgtest.DB(t).ListKeys(context.Background(), e.ws.ID)
	var id string
	for _, k := range keys {
		if len(k.AllowedOrigins) > 0 {
			id = k.ID
		}
	}
	if status, body = e.do("PUT", "/v1/widget-keys/"+id, e.keys[parley.RoleAdmin], `{"allowed_origins": ["https://shop.example/path"]}`); status != 400 {
		t.Fatalf("an origin with a path: %d %v", status, body)
	}
	if status, body = e.do("PUT", "/v1/widget-keys/"+id, e.keys[parley.RoleAdmin], `{"allowed_origins": ["https://new.example"]}`); status != 200 {
		t.Fatalf("change origins: %d %v", status, body)
	}
	if status, _, body := b.call("POST", "/v1/widget/session", map[string]any{}); status != 403 || errCode(body) != "origin_not_allowed" {
		t.Fatalf("the old origin after the change: %d %v", status, body)
	}
}

func userHash(secret, id string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))
}

// A customer id counts only with the site's signature; a verified customer
// finds their conversation from another browser; tokens are bound to
// their workspace and cannot be altered.
func TestWidgetIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.widgetKey(shop)
	status, body := e.do("POST", "/v1/workspace/identity-secret", e.keys[parley.RoleAdmin], "")
	secret, _ := body["secret"].(string)
	if status != 200 || len(secret) < 32 {
		t.Fatalf("identity secret: %d %v", status, body)
	}
	customer := func(id string) map[string]any { return map[string]any{"id": id, "name": "Cleo", "language": "en"} }

	laptop := &browser{e: e, key: key, origin: shop}
	s := laptop.session(map[string]any{"customer": customer("c-1"), "user_hash": userHash(secret, "c-1")})
	conv := laptop.say("", "hello")["conversation_id"].(string)
	phone := &browser{e: e, key: key, origin: shop}
	s2 := phone.session(map[string]any{"customer": customer("c-1"), "user_hash": userHash(secret, "c-1")})
	if s2["visitor_id"] != s["visitor_id"] || s2["conversation_id"] != conv {
		t.Fatalf("the same verified customer on another browser: %v, want visitor %v and conversation %s", s2, s["visitor_id"], conv)
	}

	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"missing hash", map[string]any{"customer": customer("c-1")}},
		{"forged hash", map[string]any{"customer": customer("c-1"), "user_hash": userHash("guessed", "c-1")}},
		{"replayed hash of another customer", map[string]any{"customer": customer("c-2"), "user_hash": userHash(secret, "c-1")}},
		{"not hex", map[string]any{"customer": customer("c-1"), "user_hash": "zz"}},
	} {
		b := &browser{e: e, key: key, origin: shop}
		status, _, body := b.call("POST", "/v1/widget/session", tt.body)
		if status != 401 || errCode(body) != "identity_invalid" {
			t.Errorf("%s: %d %v, want 401 identity_invalid", tt.name, status, body)
		}
	}

	// An anonymous visitor keeps its id across sessions, and cannot read
	// the customer's conversation.
	anon := &browser{e: e, key: key, origin: shop}
	a1 := anon.session(nil)
	if a2 := anon.session(nil); a2["visitor_id"] != a1["visitor_id"] || a2["conversation_id"] != nil {
		t.Fatalf("anonymous visitor resumed as %v, want %v and no conversation", a2, a1)
	}
	if status, _, body := anon.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil); status != 404 {
		t.Fatalf("another visitor reading the customer's conversation: %d %v", status, body)
	}

	// Tokens: altered, or of another workspace, are refused.
	parts := strings.SplitN(laptop.token, ".", 2)
	forged := &browser{e: e, key: key, origin: shop, token: parts[0] + "x." + parts[1]}
	if status, _, body := forged.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil); status != 401 {
		t.Fatalf("altered token: %d %v", status, body)
	}
	other := newEnv(t)
	otherKey := other.widgetKey(shop)
	stolen := &browser{e: other, key: otherKey, origin: shop, token: laptop.token}
	if status, _, body := stolen.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil); status != 401 {
		t.Fatalf("a token of another workspace: %d %v", status, body)
	}
	otherVisitor := &browser{e: other, key: otherKey, origin: shop}
	otherVisitor.session(nil)
	if status, _, body := otherVisitor.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil); status != 404 {
		t.Fatalf("another workspace's visitor reading the conversation: %d %v", status, body)
	}
	if status, _, body := otherVisitor.call("POST", "/v1/widget/messages", map[string]any{"conversation_id": conv, "text": "hi"}); status != 404 {
		t.Fatalf("another workspace's visitor writing to the conversation: %d %v", status, body)
	}
}

// A visitor's conversation end to end: small talk, handoff, agent replies
// (notes never shown), feedback, reading after a cursor, live events; and
// bad input refused without a write.
func TestWidgetConversation(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, nil)
	key := e.widgetKey(shop)
	e.create("/v1/teams", `{"name": "support"}`)
	ada := e.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	b := &browser{e: e, key: key, origin: shop}
	b.session(nil)

	hi := b.say("", "Hello!")
	conv, _ := hi["conversation_id"].(string)
	answer, _ := hi["answer"].(map[string]any)
	if hi["status"] != "small_talk" || hi["state"] != "bot" || answer["text"] == "" || answer["kind"] != "small_talk" {
		t.Fatalf("hello: %v, want a small-talk reply", hi)
	}
	status, _, fb := b.call("POST", "/v1/widget/conversations/"+conv+"/feedback", map[string]any{"message_id": hi["message_id"], "helpful": false})
	if status != 200 || fb["handoff_offered"] != true {
		t.Fatalf("unhelpful feedback: %d %v, want the handoff offered", status, fb)
	}
	status, _, ho := b.call("POST", "/v1/widget/conversations/"+conv+"/handoff", nil)
	esc, _ := ho["escalation"].(map[string]any)
	if status != 200 || ho["state"] != "waiting" || esc["reason"] != "unhelpful" {
		t.Fatalf("handoff after negative feedback: %d %v, want reason unhelpful", status, ho)
	}
	if q := b.say(conv, "are you there?"); q["action"] != "queued" || q["state"] != "waiting" || q["answer"] != nil {
		t.Fatalf("message while waiting: %v, want queued with the bot silent", q)
	}

	events := b.events(conv, "")
	defer events.close()
	agent := e.keys[parley.RoleAgent]
	path := "/v1/conversations/" + conv + "/messages"
	if status, body := e.do("POST", path, agent, `{"agent_id": "`+ada+`", "text": "secret: the customer is a reseller", "internal": true}`); status != 200 {
		t.Fatalf("note: %d %v", status, body)
	}
	if status, body := e.do("POST", path, agent, `{"agent_id": "`+ada+`", "text": "Hi, Ada here. How can I help?"}`); status != 200 {
		t.Fatalf("reply: %d %v", status, body)
	}
	got := events.until(t, func(ev event) bool { return ev.kind == "message" && strings.Contains(ev.data, "Ada here") })
	for _, ev := range got {
		if strings.Contains(ev.data, "reseller") {
			t.Fatalf("an internal note reached the visitor's stream: %s", ev.data)
		}
	}
	var reply map[string]any
	_ = json.Unmarshal([]byte(got[len(got)-1].data), &reply)
	if reply["agent_name"] != "Ada" || reply["role"] != "agent" {
		t.Fatalf("agent reply event %v", reply)
	}

	status, _, page := b.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil)
	msgs := list(page, "messages")
	if status != 200 || page["state"] != "agent" || len(msgs) != 5 {
		t.Fatalf("messages: %d state %v, %d messages; want 5 (hello, small-talk reply, handoff notice, queued message, agent reply; no note) in state agent: %v", status, page["state"], len(msgs), page)
	}
	for _, m := range msgs {
		if strings.Contains(m.(map[string]any)["text"].(string), "reseller") {
			t.Fatal("an internal note is in the visitor's messages")
		}
	}
	cursor := fmt.Sprint(msgs[2].(map[string]any)["id"])
	_, _, after := b.call("GET", "/v1/widget/conversations/"+conv+"/messages?after="+cursor, nil)
	if rest := list(after, "messages"); len(rest) != 2 || after["cursor"] != fmt.Sprint(msgs[4].(map[string]any)["id"]) {
		t.Fatalf("after %s: %v, want the last 2 messages", cursor, after)
	}

	// Bad input: clear 4xx, nothing written.
	for _, tt := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"unknown conversation", "POST", "/v1/widget/messages", map[string]any{"conversation_id": "00000000-0000-4000-8000-000000000000", "text": "hi"}, 404},
		{"malformed conversation", "GET", "/v1/widget/conversations/42/messages", nil, 404},
		{"oversized text", "POST", "/v1/widget/messages", map[string]any{"conversation_id": conv, "text": strings.Repeat("a", 5000)}, 413},
		{"no text", "POST", "/v1/widget/messages", map[string]any{"conversation_id": conv}, 400},
		{"bad cursor", "GET", "/v1/widget/conversations/" + conv + "/messages?after=x", nil, 400},
		{"feedback on a customer message", "POST", "/v1/widget/conversations/" + conv + "/feedback", map[string]any{"message_id": msgs[3].(map[string]any)["id"], "helpful": true}, 404},
	} {
		if status, _, body := b.call(tt.method, tt.path, tt.body); status != tt.status {
			t.Errorf("%s: %d %v, want %d", tt.name, status, body, tt.status)
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/widget/messages", strings.NewReader("text=hi"))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Origin", shop)
	req.Header.Set("X-Parley-Visitor", b.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("wrong content type: %d, want 415", resp.StatusCode)
	}
	_, _, final := b.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil)
	if n := len(list(final, "messages")); n != 5 {
		t.Fatalf("bad requests wrote messages: %d, want 5", n)
	}
}

// A flood from one visitor, one address or one key meets 429 with
// Retry-After; new conversations per address are capped.
func TestWidgetRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *api.Options) {
		o.WidgetLimits = api.WidgetLimits{
			Visitor:          ratelimit.Rate{Events: 5, Per: time.Minute},
			Address:          ratelimit.Rate{Events: 1000, Per: time.Minute},
			NewConversations: ratelimit.Rate{Events: 2, Per: time.Hour},
		}
	})
	key := e.widgetKey(shop)
	b := &browser{e: e, key: key, origin: shop}
	b.session(nil)
	conv := b.say("", "hello")["conversation_id"].(string)
	b.say("", "hi") // the second new conversation of this address
	status, h, body := b.call("POST", "/v1/widget/messages", map[string]any{"text": "hey"})
	if status != 429 || h.Get("Retry-After") == "" || errCode(body) != "rate_limited" || h.Get("Access-Control-Allow-Origin") != shop {
		t.Fatalf("third new conversation from one address: %d %v %v", status, h, body)
	}
	// The visitor has used 3 of its 5; the next 2 pass, then 429.
	codes := []int{}
	for range 4 {
		s, _, _ := b.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil)
		codes = append(codes, s)
	}
	if fmt.Sprint(codes) != "[200 200 429 429]" {
		t.Fatalf("a visitor's flood: %v, want [200 200 429 429]", codes)
	}
	// Another visitor is not held up by the first one's flood.
	c := &browser{e: e, key: key, origin: shop}
	c.session(nil)
	if s, _, body := c.call("GET", "/v1/widget/conversations/"+conv+"/messages", nil); s != 404 {
		t.Fatalf("another visitor: %d %v, want 404 (not its conversation), not 429", s, body)
	}
}

type event struct{ kind, id, data string }

// eventStream reads a widget event stream in the background.
type eventStream struct {
	events chan event
	close  func()
}

func (b *browser) events(conv, after string) *eventStream {
	b.e.t.Helper()
	u := fmt.Sprintf("%s/v1/widget/conversations/%s/events?key=%s&token=%s", b.e.srv.URL, conv, b.key, b.token)
	if after != "" {
		u += "&after=" + after
	}
	return openEvents(b.e.t, u, http.Header{"Origin": {b.origin}})
}

// openEvents opens an event stream at u, sending header.
func openEvents(t *testing.T, u string, header http.Header) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &eventStream{events: make(chan event, 100), close: func() { cancel(); resp.Body.Close() }}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.kind != "" {
					s.events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// until returns the events up to the first that done accepts, failing the
// test if none comes within 2 s.
func (s *eventStream) until(t *testing.T, done func(event) bool) []event {
	t.Helper()
	var got []event
	deadline := time.After(2 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended after %v", got)
			}
			got = append(got, ev)
			if done(ev) {
				return got
			}
		case <-deadline:
			t.Fatalf("no matching event within 2 s; got %v", got)
		}
	}
}

// One address, or one key, is limited whatever visitors it uses.
func TestWidgetAddressAndKeyLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		limits api.WidgetLimits
	}{
		{"address", api.WidgetLimits{Address: ratelimit.Rate{Events: 3, Per: time.Minute}}},
		{"key", api.WidgetLimits{Key: ratelimit.Rate{Events: 3, Per: time.Minute}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, func(o *api.Options) { o.WidgetLimits = tt.limits })
			key := e.widgetKey(shop)
			var codes []int
			for range 4 {
				b := &browser{e: e, key: key, origin: shop} // a new visitor each time
				s, h, body := b.call("POST", "/v1/widget/session", map[string]any{})
				codes = append(codes, s)
				if s == 429 && (h.Get("Retry-After") == "" || errCode(body) != "rate_limited") {
					t.Fatalf("429 without Retry-After or code: %v %v", h, body)
				}
			}
			if fmt.Sprint(codes) != "[200 200 200 429]" {
				t.Fatalf("four new visitors: %v, want [200 200 200 429]", codes)
			}
		})
	}
}

// Server-side keys give feedback and hand off through /v1/conversations.
func TestFeedbackAndHandoffAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	widget := e.keys[parley.RoleWidget]
	status, body := e.do("POST", "/v1/answer", widget, `{"message": {"text": "good morning!"}}`)
	if status != 200 || body["status"] != "small_talk" {
		t.Fatalf("greeting: %d %v", status, body)
	}
	conv, id := body["conversation_id"].(string), body["message_id"]
	path := "/v1/conversations/" + conv
	status, body = e.do("POST", path+"/feedback", widget, fmt.Sprintf(`{"message_id": %v, "helpful": true}`, id))
	if status != 200 || body["handoff_offered"] != false {
		t.Fatalf("helpful: %d %v", status, body)
	}
	for _, bad := range []string{`{"message_id": 1}`, `{"helpful": true}`, `{"message_id": "x", "helpful": true}`} {
		if status, body = e.do("POST", path+"/feedback", widget, bad); status != 400 {
			t.Errorf("feedback %s: %d %v, want 400", bad, status, body)
		}
	}
	status, body = e.do("POST", path+"/handoff", widget, "")
	esc, _ := body["escalation"].(map[string]any)
	if status != 200 || esc["reason"] != "human_requested" || body["state"] != "waiting" {
		t.Fatalf("handoff: %d %v", status, body)
	}
	if status, body = e.do("POST", path+"/handoff", widget, ""); status != 200 || body["status"] != "queued" {
		t.Fatalf("second handoff: %d %v, want queued (one open escalation)", status, body)
	}
	list, _, err := pgtest.DB(t).ListEscalations(context.Background(), e.ws.ID, parley.EscalationFilter{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("%d escalations (%v), want 1", len(list), err)
	}
}
