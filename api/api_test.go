package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// detector is loaded once: it takes about a second.
var detector *reply.LanguageDetector

func TestMain(m *testing.M) {
	detector = reply.NewLanguageDetector()
	os.Exit(pgtest.Run(m))
}

// env is one test's server and a workspace with a key of each role.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	server *api.Server
	ws     parley.Workspace
	keys   map[parley.Role]string
}

const testBodyLimit = 4096

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with set changing the server's options.
func newEnvWith(t *testing.T, set func(*api.Options)) *env {
	t.Helper()
	db := pgtest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine := reply.New(db, retrieval.NewLocal(), reply.Options{Language: detector, Classifiers: db, Logger: log})
	opts := api.Options{
		Knowledge:     testKnowledge(t, nil, log),
		Logger:        log,
		MaxBodyBytes:  testBodyLimit,
		Ready:         db.Ping,
		Version:       "test",
		ClassifyError: postgres.Classify,
	}
	if set != nil {
		set(&opts)
	}
	s := api.New(db, engine, opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, server: s, ws: pgtest.Workspace(t), keys: map[parley.Role]string{}}
	for _, role := range []parley.Role{parley.RoleWidget, parley.RoleAgent, parley.RoleAdmin} {
		_, secret, err := db.CreateKey(context.Background(), e.ws.ID, "test", role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = secret
	}
	return e
}

// do sends a request with the key (none when empty) and returns the status
// and the decoded JSON body.
func (e *env) do(method, path, key, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// wantError checks an error response's status and code.
func wantError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d (body %v)", status, wantStatus, body)
	}
	e, _ := body["error"].(map[string]any)
	if e == nil || e["code"] != wantCode || e["message"] == "" {
		t.Fatalf("body %v, want error with code %q and a message", body, wantCode)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if status, body := e.do("GET", "/healthz", "", ""); status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, body)
	}
	if status, body := e.do("GET", "/readyz", "", ""); status != 200 || body["status"] != "ready" {
		t.Fatalf("readyz: %d %v", status, body)
	}
	e.do("GET", "/v1/workspace", e.keys[parley.RoleWidget], "")
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`parley_http_requests_total{method="GET",route="/v1/workspace",status="200"} 1`,
		`parley_http_request_duration_seconds_bucket{method="GET",route="/v1/workspace",status="200",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := e.do("GET", "/v1/workspace", "", "")
	wantError(t, status, body, 401, "unauthorized")

	status, body = e.do("GET", "/v1/workspace", "prly_wrong", "")
	wantError(t, status, body, 401, "unauthorized")

	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/workspace", nil)
	req.Header.Set("Authorization", "Basic "+e.keys[parley.RoleAdmin])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("Basic scheme: status %d, want 401", resp.StatusCode)
	}

	status, body = e.do("GET", "/v1/workspace", e.keys[parley.RoleWidget], "")
	if status != 200 || body["name"] != e.ws.Name || body["role"] != "widget" {
		t.Fatalf("workspace with widget key: %d %v", status, body)
	}

	// A widget key cannot manage knowledge.
	status, body = e.do("GET", "/v1/knowledge-bases", e.keys[parley.RoleWidget], "")
	wantError(t, status, body, 403, "forbidden")
	status, body = e.do("GET", "/v1/knowledge-bases", e.keys[parley.RoleAgent], "")
	wantError(t, status, body, 403, "forbidden")
}

func TestRevokedKeyIsRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := pgtest.DB(t)
	k, secret, err := db.CreateKey(context.Background(), e.ws.ID, "soon revoked", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := e.do("GET", "/v1/knowledge-bases", secret, ""); status != 200 {
		t.Fatalf("before revoke: %d", status)
	}
	if _, err := db.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	status, body := e.do("GET", "/v1/knowledge-bases", secret, "")
	wantError(t, status, body, 401, "unauthorized")
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed JSON", "POST", "/v1/knowledge-bases", `{"name": `, 400, "invalid"},
		{"not an object", "POST", "/v1/knowledge-bases", `[1,2]`, 400, "invalid"},
		{"wrong type", "POST", "/v1/knowledge-bases", `{"name": 5}`, 400, "invalid"},
		{"unknown field", "POST", "/v1/knowledge-bases", `{"nmae": "faq"}`, 400, "invalid"},
		{"trailing data", "POST", "/v1/knowledge-bases", `{"name": "a"} {}`, 400, "invalid"},
		{"invalid name", "POST", "/v1/knowledge-bases", `{"name": "../etc"}`, 400, "invalid"},
		{"body over limit", "POST", "/v1/knowledge-bases", `{"name": "` + strings.Repeat("a", testBodyLimit) + `"}`, 413, "too_large"},
		{"unknown route", "GET", "/v1/nothing-here", "", 404, "not_found"},
		{"wrong method", "PATCH", "/v1/knowledge-bases", "", 405, "method_not_allowed"},
		{"unknown knowledge base", "GET", "/v1/knowledge-bases/missing", "", 404, "not_found"},
		{"bad source id", "DELETE", "/v1/knowledge-bases/missing/sources/x", "", 404, "not_found"},
		{"bad limit", "GET", "/v1/knowledge-bases/missing/sources?limit=0", "", 404, "not_found"},
		{"threshold out of range", "PUT", "/v1/workspace/settings", `{"answer_threshold": 2}`, 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, tt.path, admin, tt.body)
			wantError(t, status, body, tt.status, tt.code)
		})
	}
}

func TestKnowledgeBaseCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	status, body := e.do("POST", "/v1/knowledge-bases", admin, `{"name": "help-centre"}`)
	if status != 201 || body["name"] != "help-centre" {
		t.Fatalf("create: %d %v", status, body)
	}
	status, body = e.do("POST", "/v1/knowledge-bases", admin, `{"name": "help-centre"}`)
	wantError(t, status, body, 409, "conflict")

	status, body = e.do("GET", "/v1/knowledge-bases", admin, "")
	kbs, _ := body["knowledge_bases"].([]any)
	if status != 200 || len(kbs) != 1 {
		t.Fatalf("list: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/knowledge-bases/help-centre/sources?limit=10", admin, "")
	if status != 200 || body["sources"] == nil {
		t.Fatalf("sources: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/knowledge-bases/help-centre/sources?limit=abc", admin, "")
	wantError(t, status, body, 400, "invalid")
	status, body = e.do("DELETE", "/v1/knowledge-bases/help-centre/sources/12345", admin, "")
	wantError(t, status, body, 404, "not_found")

	if status, _ := e.do("DELETE", "/v1/knowledge-bases/help-centre", admin, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	status, body = e.do("DELETE", "/v1/knowledge-bases/help-centre", admin, "")
	wantError(t, status, body, 404, "not_found")
}

// A key of workspace A can neither read nor change anything of workspace B.
func TestWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	a, b := newEnv(t), newEnv(t)
	adminA, adminB := a.keys[parley.RoleAdmin], b.keys[parley.RoleAdmin]
	status, body := b.do("POST", "/v1/knowledge-bases", adminB, `{"name": "secret-kb"}`)
	if status != 201 {
		t.Fatalf("create in B: %d %v", status, body)
	}
	idB := body["id"].(string)

	for _, ref := range []string{"secret-kb", idB} {
		status, body = a.do("GET", "/v1/knowledge-bases/"+ref, adminA, "")
		wantError(t, status, body, 404, "not_found")
		status, body = a.do("GET", "/v1/knowledge-bases/"+ref+"/sources", adminA, "")
		wantError(t, status, body, 404, "not_found")
		status, body = a.do("DELETE", "/v1/knowledge-bases/"+ref, adminA, "")
		wantError(t, status, body, 404, "not_found")
	}
	status, body = a.do("GET", "/v1/knowledge-bases", adminA, "")
	if kbs, _ := body["knowledge_bases"].([]any); status != 200 || len(kbs) != 0 {
		t.Fatalf("A sees knowledge bases %v", body)
	}
	// A creating the same name makes its own, leaving B's alone.
	if status, _ := a.do("POST", "/v1/knowledge-bases", adminA, `{"name": "secret-kb"}`); status != 201 {
		t.Fatalf("same name in A: %d", status)
	}
	a.do("PUT", "/v1/workspace/settings", adminA, `{"answer_threshold": 0.9}`)
	status, body = b.do("GET", "/v1/knowledge-bases/secret-kb", adminB, "")
	if status != 200 || body["id"] != idB {
		t.Fatalf("B's knowledge base changed: %d %v", status, body)
	}
	_, body = b.do("GET", "/v1/workspace", adminB, "")
	if s := body["settings"].(map[string]any); s["answer_threshold"] != 0.5 {
		t.Fatalf("B's settings changed: %v", s)
	}
}

// /v1/answer reports the engine's step times in a Server-Timing header and
// in /metrics, with the answers by status and reason.
func TestAnswerServerTiming(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/answer", strings.NewReader(`{"message": {"text": "where is my parcel?"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.keys[parley.RoleWidget])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	header := resp.Header.Get("Server-Timing")
	steps := map[string]float64{}
	for _, m := range regexp.MustCompile(`(\w+);dur=(\d+\.\d{3})`).FindAllStringSubmatch(header, -1) {
		steps[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	for _, step := range []string{"embed", "search", "customer", "outcome", "total"} {
		if _, ok := steps[step]; !ok {
			t.Fatalf("Server-Timing %q has no %s step", header, step)
		}
	}
	if steps["total"] < steps["search"]+steps["outcome"] {
		t.Fatalf("Server-Timing %q: total is less than search and outcome together", header)
	}

	resp, err = http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`parley_answer_step_duration_seconds_count{step="search"} 1`,
		`parley_answer_step_duration_seconds_count{step="outcome"} 1`,
		`parley_answers_total{reason="no_match",status="escalated"} 1`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(raw), `step="generate"`) {
		t.Error("metrics have a generate step without a chat model")
	}
}
