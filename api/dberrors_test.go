package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// A NUL character in JSON text reaches PostgreSQL, which cannot store it in
// text (22021) or jsonb (22P05): a 400 for the caller, not a 500.
func TestNULInTextIsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	widget, admin := e.keys[parley.RoleWidget], e.keys[parley.RoleAdmin]
	tests := []struct{ name, method, path, key, body string }{
		{"answer text", "POST", "/v1/answer", widget, `{"message": {"text": "where is my parcel\u0000?"}}`},
		{"customer name", "POST", "/v1/answer", widget, `{"customer": {"name": "A\u0000B"}, "message": {"text": "hello there"}}`},
		{"customer property", "POST", "/v1/answer", widget, `{"customer": {"properties": {"plan": "x\u0000"}}, "message": {"text": "hello there"}}`},
		{"channel", "POST", "/v1/answer", widget, `{"channel": "web\u0000", "message": {"text": "hello there"}}`},
		{"agent name", "POST", "/v1/agents", admin, `{"name": "Ann\u0000", "email": "ann@example.com", "team": "support"}`},
		{"settings glossary", "PUT", "/v1/workspace/settings", admin, `{"glossary": ["Parley\u0000"]}`},
	}
	if status, body := e.do("POST", "/v1/teams", admin, `{"name": "support"}`); status != 201 {
		t.Fatalf("create team: %d %v", status, body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, tt.path, tt.key, tt.body)
			wantError(t, status, body, http.StatusBadRequest, "invalid")
		})
	}
	// Nothing of a refused request is written.
	var conversations, agents int
	err := pgtest.DB(t).Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM conversations WHERE workspace_id = $1),
		(SELECT count(*) FROM agents WHERE workspace_id = $1)`, e.ws.ID).Scan(&conversations, &agents)
	if err != nil || conversations != 0 || agents != 0 {
		t.Errorf("refused requests left %d conversations and %d agents (err %v)", conversations, agents, err)
	}
}

// proxy forwards TCP connections to PostgreSQL until it is cut: then it
// closes every connection and refuses new ones, as a database that went
// away does.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, upstream)
		p.mu.Unlock()
		go func() { io.Copy(upstream, c); upstream.Close() }()
		go func() { io.Copy(c, upstream); c.Close() }()
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// While the database is unreachable every request that needs it is a 503
// `unavailable` with Retry-After, logged once for the outage, not a 500
// per request; when it is back, requests succeed again.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	t.Parallel()
	shared := pgtest.DB(t)
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	ctx := context.Background()
	db, err := postgres.Open(ctx, u.String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := api.New(db, reply.New(db, retrieval.NewLocal(), reply.Options{Language: detector, Classifiers: db, Logger: log}), api.Options{
		Logger: log, MaxBodyBytes: testBodyLimit, Ready: db.Ping, Version: "test", ClassifyError: postgres.Classify,
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, server: s, ws: pgtest.Workspace(t), keys: map[parley.Role]string{}}
	_, key, err := shared.CreateKey(ctx, e.ws.ID, "test", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	// The server remembers a key it has read for postgres.PrincipalTTL:
	// the request before the outage goes with another key, so that each
	// one during it needs the database.
	_, before, err := shared.CreateKey(ctx, e.ws.ID, "before", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.do("GET", "/v1/workspace", before, ""); status != 200 {
		t.Fatalf("before the outage: %d %v", status, body)
	}

	p.cut()
	for i := range 6 {
		method, path, body := "GET", "/v1/workspace", ""
		if i%2 == 1 {
			method, path, body = "POST", "/v1/answer", `{"message": {"text": "where is my parcel?"}}`
		}
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), `"code":"unavailable"`) {
			t.Fatalf("%s %s during the outage: %d %s, want 503 unavailable\n%s", method, path, resp.StatusCode, raw, logs.String())
		}
		if got := resp.Header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After = %q, want 2", got)
		}
	}
	if n := strings.Count(logs.String(), "database unavailable"); n != 1 {
		t.Log(logs.String())
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the outage was logged as an error:\n%s", logs.String())
	}

	p.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := e.do("GET", "/v1/workspace", key, "")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the outage: %d %v", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "database available again") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
}
