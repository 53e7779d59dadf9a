// Package openaitest is a fake OpenAI-compatible server for tests: it
// speaks the chat-completions and embeddings wire format (JSON, and
// server-sent events for streams), answers from a script, and records what
// it was sent.
package openaitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // with the query, as in /v1/chat/completions?api-version=...
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Messages returns the chat messages of a chat request as (role, content)
// pairs.
func (r Request) Messages() []Message {
	raw, _ := json.Marshal(r.Body["messages"])
	var msgs []Message
	_ = json.Unmarshal(raw, &msgs)
	return msgs
}

// Message is a chat message as sent on the wire.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Responder answers one request.
type Responder func(w http.ResponseWriter, r *http.Request, req Request)

// Server is the fake. Each request is answered by the next responder of
// the script, or by the fallback once the script is used up.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	script   []Responder
	fallback Responder
	requests []Request
	canceled chan struct{}
	once     sync.Once
}

// New starts a server that answers with the script, then with fallback
// (nil: an error 500) and stops when the test ends.
func New(t testing.TB, fallback Responder, script ...Responder) *Server {
	t.Helper()
	s := &Server{script: script, fallback: fallback, canceled: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL of the API root, as clients want it: .../v1.
func (s *Server) BaseURL() string { return s.Server.URL + "/v1" }

// Then appends responders to the script.
func (s *Server) Then(rs ...Responder) {
	s.mu.Lock()
	s.script = append(s.script, rs...)
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Canceled is closed when a request's context ends before its responder
// finished: the client went away.
func (s *Server) Canceled() <-chan struct{} { return s.canceled }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Raw: raw}
	_ = json.Unmarshal(raw, &req.Body)
	s.mu.Lock()
	s.requests = append(s.requests, req)
	next := s.fallback
	if len(s.script) > 0 {
		next = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	if next == nil {
		next = Fail(http.StatusInternalServerError, "no response scripted")
	}
	next(w, r, req)
	if r.Context().Err() != nil {
		s.once.Do(func() { close(s.canceled) })
	}
}
