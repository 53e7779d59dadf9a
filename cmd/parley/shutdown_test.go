package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// gated makes each request to the fake model report on arrived, then wait
// for release to be closed (a nil release never is) before next answers
// it; a request whose client goes away is not answered.
func gated(arrived chan<- struct{}, release <-chan struct{}, next openaitest.Responder) openaitest.Responder {
	return func(w http.ResponseWriter, r *http.Request, req openaitest.Request) {
		select {
		case arrived <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		select {
		case <-release:
			next(w, r, req)
		case <-r.Context().Done():
		}
	}
}

// awaitArrivals waits until n requests have reached the fake model.
func awaitArrivals(t *testing.T, arrived <-chan struct{}, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatalf("fewer than %d requests reached the model", n)
		}
	}
}

// call is one client request to the child server and what came back.
type call struct {
	status int
	body   []byte
	err    error
}

// post sends a JSON request with an API key and reads the whole answer.
func post(url, key, body string) call {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return call{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return call{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return call{status: resp.StatusCode, body: raw, err: err}
}

// waitRefused waits until new connections to addr are refused.
func waitRefused(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still takes connections %s after SIGTERM", addr, limit)
}

// SIGTERM closes the listener at once, lets the requests in flight finish
// with their whole answers, and ends the process with status 0 within
// PARLEY_SHUTDOWN_TIMEOUT.
func TestServerShutsDownGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Parallel()
	const inFlight, timeout = 4, 10 * time.Second
	arrived, release := make(chan struct{}, inFlight), make(chan struct{})
	llm := openaitest.New(t, gated(arrived, release, openaitest.Reply("Wo ist mein Paket?")))
	ws := pgtest.Workspace(t)
	_, key, err := pgtest.DB(t).CreateKey(context.Background(), ws.ID, "shutdown", parley.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	child := startServer(t, "PARLEY_LLM_BASE_URL="+llm.BaseURL(), "PARLEY_LLM_MODEL=test-model",
		"PARLEY_LLM_MAX_RETRIES=0", "PARLEY_SHUTDOWN_TIMEOUT="+timeout.String())

	calls := make(chan call, inFlight)
	for range inFlight {
		go func() {
			calls <- post(child.url("/v1/translate"), key, `{"text": "Where is my parcel?", "source_language": "en", "target_language": "de"}`)
		}()
	}
	awaitArrivals(t, arrived, inFlight)
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	waitRefused(t, child.addr, 5*time.Second)
	close(release)

	for range inFlight {
		c := <-calls
		var tr struct{ Text, TargetLanguage string }
		if c.err != nil || c.status != http.StatusOK || json.Unmarshal(c.body, &tr) != nil || tr.Text != "Wo ist mein Paket?" {
			t.Errorf("request in flight at SIGTERM: status %d, err %v, body %s", c.status, c.err, c.body)
		}
	}
	if code := child.wait(t, timeout-time.Since(signalled)); code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, child.log.String())
	}
	for _, msg := range []string{`"msg":"shutting down: finishing in-flight requests"`, `"msg":"stopped"`} {
		if !strings.Contains(child.log.String(), msg) {
			t.Errorf("log lacks %s:\n%s", msg, child.log.String())
		}
	}
}

// A request still running when PARLEY_SHUTDOWN_TIMEOUT expires is cut off:
// the process does not wait for it, even when it holds a database
// transaction (an upload waiting for its embeddings), and exits with
// status 1, saying so. The upload writes nothing.
func TestShutdownTimeoutCutsOffRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Parallel()
	const timeout = 200 * time.Millisecond
	arrived := make(chan struct{}, 1)
	embedder := openaitest.New(t, gated(arrived, nil, openaitest.Embeddings(8)))
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	_, key, err := db.CreateKey(context.Background(), ws.ID, "shutdown", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	child := startServer(t, "PARLEY_EMBEDDER=openai", "PARLEY_EMBED_BASE_URL="+embedder.BaseURL(),
		"PARLEY_EMBED_MODEL=test-embed", "PARLEY_EMBED_DIMENSIONS=8", "PARLEY_LLM_MAX_RETRIES=0",
		"PARLEY_SHUTDOWN_TIMEOUT="+timeout.String())
	if c := post(child.url("/v1/knowledge-bases"), key, `{"name": "faq"}`); c.status != http.StatusCreated {
		t.Fatalf("create knowledge base: %d %v %s", c.status, c.err, c.body)
	}

	upload := make(chan call, 1)
	go func() {
		upload <- post(child.url("/v1/knowledge-bases/faq/uploads"), key,
			`{"records": [{"question": "Where is my parcel?", "answer": "On its way."}]}`)
	}()
	awaitArrivals(t, arrived, 1)
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := child.wait(t, timeout+5*time.Second); code != 1 {
		t.Fatalf("exit status %d, want 1:\n%s", code, child.log.String())
	}
	if !strings.Contains(child.log.String(), "parley: shutdown: ") {
		t.Errorf("the process does not say that its shutdown timed out:\n%s", child.log.String())
	}
	if c := <-upload; c.err == nil && c.status == http.StatusOK {
		t.Errorf("the upload cut off at shutdown answered 200: %s", c.body)
	}
	var sources int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM sources WHERE workspace_id = $1`, ws.ID).Scan(&sources); err != nil || sources != 0 {
		t.Fatalf("%d sources written by the cut-off upload (err %v)", sources, err)
	}
}
