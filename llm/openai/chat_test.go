package openai_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/llm/openai/openaitest"
)

// sleeps records the waits between retries instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newChat(t *testing.T, srv *openaitest.Server, mod func(*openai.Config)) (*openai.ChatModel, *sleeps) {
	t.Helper()
	cfg := openai.Config{BaseURL: srv.BaseURL(), APIKey: "sk-test", Model: "test-model", Timeout: 5 * time.Second, MaxRetries: 2}
	if mod != nil {
		mod(&cfg)
	}
	m, err := openai.NewChatModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	openai.SetSleep(m, s.sleep)
	return m, s
}

var prompt = []llm.Message{{Role: "system", Content: "You are terse."}, {Role: "user", Content: "Say hi."}}

func TestCompleteSendsThePrompt(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Reply("Hi!"))
	m, _ := newChat(t, srv, nil)
	c, err := m.Complete(context.Background(), prompt, llm.Options{MaxTokens: 100, Temperature: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Text != "Hi!" || c.Model != "test-model" || c.PromptTokens != openaitest.Usage.Prompt || c.CompletionTokens != openaitest.Usage.Completion || c.FinishReason != "stop" {
		t.Fatalf("completion %+v", c)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
		t.Fatalf("request %s with Authorization %q", r.Path, r.Header.Get("Authorization"))
	}
	msgs := r.Messages()
	if len(msgs) != 2 || msgs[0].Role != "system" || msgs[0].Content != "You are terse." || msgs[1].Content != "Say hi." {
		t.Fatalf("messages %+v", msgs)
	}
	if r.Body["model"] != "test-model" || r.Body["max_tokens"] != 100.0 || r.Body["temperature"] == nil {
		t.Fatalf("body %v", r.Body)
	}
}

func TestReasoningModelsGetMaxCompletionTokens(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Reply("ok"))
	m, _ := newChat(t, srv, func(c *openai.Config) { c.Model = "gpt-5-mini" })
	if _, err := m.Complete(context.Background(), prompt, llm.Options{MaxTokens: 100, Temperature: 0.2}); err != nil {
		t.Fatal(err)
	}
	body := srv.Requests()[0].Body
	if body["max_completion_tokens"] != 400.0 || body["max_tokens"] != nil || body["temperature"] != nil {
		t.Fatalf("body %v", body)
	}
}

func TestAzure(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Reply("ok"))
	m, _ := newChat(t, srv, func(c *openai.Config) {
		c.BaseURL, c.Model, c.AzureDeployment, c.APIVersion = srv.URL, "", "support-gpt4o", "2024-10-21"
	})
	if _, err := m.Complete(context.Background(), prompt, llm.Options{}); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Path != "/openai/deployments/support-gpt4o/chat/completions?api-version=2024-10-21" {
		t.Fatalf("path %s", r.Path)
	}
	if r.Header.Get("api-key") != "sk-test" || r.Header.Get("Authorization") != "" {
		t.Fatalf("headers %v", r.Header)
	}
}

func TestCompleteFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   []openaitest.Responder
		code     string
		message  string
		requests int
		sleeps   []time.Duration // nil: not checked
	}{
		{name: "429 honours Retry-After",
			script:   []openaitest.Responder{openaitest.Fail(429, "slow down", "Retry-After", "2"), openaitest.Reply("ok")},
			requests: 2, sleeps: []time.Duration{2 * time.Second}},
		{name: "429 honours Retry-After-Ms",
			script:   []openaitest.Responder{openaitest.Fail(429, "slow down", "Retry-After-Ms", "150"), openaitest.Reply("ok")},
			requests: 2, sleeps: []time.Duration{150 * time.Millisecond}},
		{name: "5xx retried with backoff",
			script:   []openaitest.Responder{openaitest.Fail(500, "oops"), openaitest.Fail(502, "bad gateway"), openaitest.Reply("ok")},
			requests: 3},
		{name: "5xx until retries run out",
			script: []openaitest.Responder{openaitest.Fail(503, "overloaded"), openaitest.Fail(503, "overloaded"), openaitest.Fail(503, "overloaded")},
			code:   parley.EUnavailable, message: "HTTP 503", requests: 3},
		{name: "429 asking for too long a pause",
			script: []openaitest.Responder{openaitest.Fail(429, "quota", "Retry-After", "3600")},
			code:   parley.EUnavailable, message: "rate limited", requests: 1},
		{name: "400 not retried",
			script: []openaitest.Responder{openaitest.Fail(400, "context_length_exceeded")},
			code:   parley.EInvalid, message: "context_length_exceeded", requests: 1},
		{name: "401 not retried",
			script: []openaitest.Responder{openaitest.Fail(401, "bad key")},
			code:   parley.EUnavailable, message: "API key", requests: 1},
		{name: "404 not retried",
			script: []openaitest.Responder{openaitest.Fail(404, "no such model")},
			code:   parley.EUnavailable, message: "model", requests: 1},
		{name: "malformed JSON",
			script: []openaitest.Responder{openaitest.Malformed()},
			code:   parley.EUnavailable, message: "not valid JSON", requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := openaitest.New(t, nil, tt.script...)
			m, slept := newChat(t, srv, nil)
			c, err := m.Complete(context.Background(), prompt, llm.Options{})
			if got := len(srv.Requests()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if tt.sleeps != nil && !equalDurations(slept.got(), tt.sleeps) {
				t.Errorf("slept %v, want %v", slept.got(), tt.sleeps)
			}
			for _, d := range slept.got() {
				if d > 8*time.Second {
					t.Errorf("backoff %v is over the cap", d)
				}
			}
			if tt.code == "" {
				if err != nil || c.Text != "ok" {
					t.Fatalf("got %q, %v; want ok", c.Text, err)
				}
				return
			}
			if parley.ErrorCode(err) != tt.code || !strings.Contains(parley.ErrorMessage(err), tt.message) {
				t.Fatalf("err %v (code %s, message %q), want code %s with %q", err, parley.ErrorCode(err), parley.ErrorMessage(err), tt.code, tt.message)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSlowModelTimesOut(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Slow(10*time.Second, openaitest.Reply("late")))
	m, _ := newChat(t, srv, func(c *openai.Config) { c.Timeout = 150 * time.Millisecond })
	start := time.Now()
	_, err := m.Complete(context.Background(), prompt, llm.Options{})
	if parley.ErrorCode(err) != parley.ETimeout || !strings.Contains(parley.ErrorMessage(err), "did not answer within 150ms") {
		t.Fatalf("err %v, want timeout", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests: a timeout must not be retried", n)
	}
}

func TestCancelIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Slow(10*time.Second, openaitest.Reply("late")))
	m, slept := newChat(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := m.Complete(ctx, prompt, llm.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	select {
	case <-srv.Canceled():
	case <-time.After(2 * time.Second):
		t.Fatal("the server never saw the request cancelled")
	}
	if n := len(srv.Requests()); n != 1 || len(slept.got()) != 0 {
		t.Fatalf("%d requests, %d retries after a cancel", n, len(slept.got()))
	}
}

func TestUnreachableServerIsRetried(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, nil)
	srv.Close()
	m, slept := newChat(t, srv, nil)
	_, err := m.Complete(context.Background(), prompt, llm.Options{})
	if parley.ErrorCode(err) != parley.EUnavailable || !strings.Contains(parley.ErrorMessage(err), "cannot reach") {
		t.Fatalf("err %v", err)
	}
	if n := len(slept.got()); n != 2 {
		t.Fatalf("%d retries, want 2", n)
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, nil, openaitest.Fail(503, "warming up"), openaitest.Stream("Hel", "lo", " there"))
	m, _ := newChat(t, srv, nil)
	var deltas []string
	c, err := m.Stream(context.Background(), prompt, llm.Options{MaxTokens: 50}, func(d string) error {
		deltas = append(deltas, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(deltas, "|") != "Hel|lo| there" || c.Text != "Hello there" || c.PromptTokens != openaitest.Usage.Prompt || c.FinishReason != "stop" {
		t.Fatalf("deltas %q, completion %+v", deltas, c)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (one retry of the 503)", len(reqs))
	}
	body := reqs[1].Body
	opts, _ := body["stream_options"].(map[string]any)
	if body["stream"] != true || opts["include_usage"] != true {
		t.Fatalf("body %v", body)
	}
}

func TestStreamStopsWhenTheCallbackFails(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Hang("one", "two"))
	m, _ := newChat(t, srv, nil)
	stop := errors.New("enough")
	c, err := m.Stream(context.Background(), prompt, llm.Options{}, func(string) error { return stop })
	if !errors.Is(err, stop) || c.Text != "one" {
		t.Fatalf("got %q, %v", c.Text, err)
	}
}

func TestStreamTimeoutKeepsPartialText(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Hang("partial"))
	m, _ := newChat(t, srv, func(c *openai.Config) { c.Timeout = 200 * time.Millisecond })
	c, err := m.Stream(context.Background(), prompt, llm.Options{}, func(string) error { return nil })
	if parley.ErrorCode(err) != parley.ETimeout || c.Text != "partial" {
		t.Fatalf("got %q, %v", c.Text, err)
	}
}

func TestStreamCancel(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Hang("first"))
	m, _ := newChat(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := m.Stream(ctx, prompt, llm.Options{}, func(string) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	select {
	case <-srv.Canceled():
	case <-time.After(2 * time.Second):
		t.Fatal("the server never saw the stream cancelled")
	}
}
