package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/web"
)

// fakeAPI speaks the widget side of /work/notes/widget-contract.md (the
// real server is tested in widget_e2e_test.go): enough to drive the
// widget's behaviour in a browser without a database.
type fakeAPI struct {
	srv     *httptest.Server
	key     string
	allowed string // the one allowed origin
	notice  string // the handoff notice the server sends

	mu       sync.Mutex
	msgs     []fakeMsg // of the one conversation
	state    string
	feedback []string
	notify   chan struct{} // closed and replaced on every new message
	streams  int           // event streams opened
}

type fakeMsg struct {
	ID        string       `json:"id"`
	Role      string       `json:"role"`
	Text      string       `json:"text"`
	Sources   []fakeSource `json:"sources,omitempty"`
	AgentName string       `json:"agent_name,omitempty"`
}

type fakeSource struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

const fakeConv = "conv-1"

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{key: "pk_test", state: "bot", notify: make(chan struct{}), notice: "Thanks! A person from our team will reply here."}
	mux := http.NewServeMux()
	mux.Handle("GET /widget.js", web.Widget())
	mux.HandleFunc("POST /v1/widget/session", f.session)
	mux.HandleFunc("POST /v1/widget/messages", f.message)
	mux.HandleFunc("GET /v1/widget/conversations/{id}/messages", f.list)
	mux.HandleFunc("GET /v1/widget/conversations/{id}/events", f.events)
	mux.HandleFunc("POST /v1/widget/conversations/{id}/feedback", f.feedbackPost)
	mux.HandleFunc("POST /v1/widget/conversations/{id}/handoff", f.handoff)
	f.srv = httptest.NewServer(f.cors(mux))
	t.Cleanup(f.srv.Close)
	return f
}

// cors answers as the contract says: allowed origin only, preflight 204.
func (f *fakeAPI) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/widget.js" {
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		if origin != f.allowed {
			fail(w, http.StatusForbidden, "origin_not_allowed", "origin not allowed")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Parley-Visitor")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		key := r.URL.Query().Get("key")
		if a := r.Header.Get("Authorization"); a != "" {
			key = strings.TrimPrefix(a, "Bearer ")
		}
		if key != f.key {
			fail(w, http.StatusUnauthorized, "unauthorized", "bad key")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) session(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	conv := any(nil)
	if len(f.msgs) > 0 {
		conv = fakeConv
	}
	f.mu.Unlock()
	writeJSON(w, map[string]any{"visitor_token": "vt-1", "visitor_id": "v_1", "conversation_id": conv,
		"settings": map[string]any{"languages": []string{"en", "de"}, "greeting": "Hi! Ask me anything.",
			"theme": map[string]string{"color": "#2f5d3a"}, "name": "Bramble & Co."}})
}

// add stores a message and wakes the event streams.
func (f *fakeAPI) add(m fakeMsg) fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	m.ID = strconv.Itoa(len(f.msgs) + 1)
	f.msgs = append(f.msgs, m)
	close(f.notify)
	f.notify = make(chan struct{})
	return m
}

func (f *fakeAPI) message(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Parley-Visitor") != "vt-1" {
		fail(w, http.StatusUnauthorized, "unauthorized", "no visitor token")
		return
	}
	var req struct{ Text, ConversationID string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	f.add(fakeMsg{Role: "customer", Text: req.Text})
	f.mu.Lock()
	state := f.state
	f.mu.Unlock()
	switch {
	case state != "bot":
		writeJSON(w, map[string]any{"conversation_id": fakeConv, "state": state, "action": "queued"})
	case strings.Contains(req.Text, "human"):
		writeJSON(w, f.escalate())
	default:
		m := f.add(fakeMsg{Role: "bot", Text: "Delivery to Germany takes 2-4 working days.",
			Sources: []fakeSource{{Title: "Shipping", URL: "https://shop.example/help/shipping"}}})
		writeJSON(w, map[string]any{"conversation_id": fakeConv, "message_id": m.ID, "status": "answered", "state": "bot",
			"language": "en", "confidence": 0.97, "answer": map[string]any{"text": m.Text, "sources": m.Sources}})
	}
}

// after returns the messages after the cursor id.
func (f *fakeAPI) after(cursor string) []fakeMsg {
	n, _ := strconv.Atoi(cursor)
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > len(f.msgs) {
		n = len(f.msgs)
	}
	return append([]fakeMsg(nil), f.msgs[n:]...)
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	msgs := f.after(r.URL.Query().Get("after"))
	f.mu.Lock()
	state := f.state
	f.mu.Unlock()
	writeJSON(w, map[string]any{"messages": msgs, "state": state})
}

func (f *fakeAPI) events(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != "vt-1" {
		fail(w, http.StatusUnauthorized, "unauthorized", "no visitor token")
		return
	}
	cursor := r.URL.Query().Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		cursor = id
	}
	f.mu.Lock()
	f.streams++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	flusher.Flush()
	for {
		f.mu.Lock()
		wake := f.notify
		f.mu.Unlock()
		for _, m := range f.after(cursor) {
			b, _ := json.Marshal(m)
			fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", m.ID, b)
			cursor = m.ID
		}
		flusher.Flush()
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-time.After(15 * time.Second):
			fmt.Fprint(w, ": ping\n\n")
		}
	}
}

func (f *fakeAPI) feedbackPost(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MessageID string `json:"message_id"`
		Helpful   bool   `json:"helpful"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.feedback = append(f.feedback, fmt.Sprintf("%s:%v", req.MessageID, req.Helpful))
	f.mu.Unlock()
	writeJSON(w, map[string]any{"handoff_offered": !req.Helpful})
}

func (f *fakeAPI) handoff(w http.ResponseWriter, r *http.Request) { writeJSON(w, f.escalate()) }

// escalate hands the conversation to a person: the notice is stored as a
// bot message (the stream delivers it too) and answered as /v1/answer does.
func (f *fakeAPI) escalate() map[string]any {
	m := f.add(fakeMsg{Role: "bot", Text: f.notice})
	f.mu.Lock()
	f.state = "waiting"
	f.mu.Unlock()
	return map[string]any{"conversation_id": fakeConv, "message_id": m.ID, "status": "escalated", "state": "waiting",
		"escalation": map[string]string{"id": "e1", "reason": "human_requested", "message": m.Text}}
}
