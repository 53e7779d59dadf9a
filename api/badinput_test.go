package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/ratelimit"
)

// A route as the audit calls it: the least role it needs, its path with
// {placeholders} for ids, and a well-formed body when it reads one.
// Placeholders are filled with the audited workspace's own ids, with ids
// no object has, or with another workspace's.
type routeSpec struct {
	auth auth
	role parley.Role // for auth v1 and page: the least role the route needs
	path string      // the path, placeholders for its parameters
	body string      // a well-formed JSON body, for routes that read one
	// badQuery are query strings the route must refuse with 400 invalid.
	badQuery []string
}

type auth int

const (
	public auth = iota // no key
	v1                 // a bearer key; under /app/api the console session
	widget             // a publishable key from an allowed origin, with a visitor token
	page               // a console page: the console session
)

// routeSpecs has an entry for every route of the server, keyed "METHOD
// path" as gin lists it; the console API (/app/api/v1/...) reuses the /v1
// entries. A route added without an entry fails TestBadInputOnEveryRoute.
var routeSpecs = map[string]routeSpec{
	"GET /healthz":    {auth: public, path: "/healthz"},
	"GET /readyz":     {auth: public, path: "/readyz"},
	"GET /metrics":    {auth: public, path: "/metrics"},
	"GET /widget.js":  {auth: public, path: "/widget.js"},
	"HEAD /widget.js": {auth: public, path: "/widget.js"},

	"OPTIONS /v1/widget/*path":                   {auth: public, path: "/v1/widget/messages"},
	"POST /v1/widget/session":                    {auth: widget, path: "/v1/widget/session", body: `{}`},
	"POST /v1/widget/messages":                   {auth: widget, path: "/v1/widget/messages", body: `{"text": "hello"}`},
	"GET /v1/widget/conversations/:id/messages":  {auth: widget, path: "/v1/widget/conversations/{visit}/messages", badQuery: []string{"after=xyz"}},
	"GET /v1/widget/conversations/:id/events":    {auth: widget, path: "/v1/widget/conversations/{visit}/events", badQuery: []string{"after=xyz"}},
	"POST /v1/widget/conversations/:id/feedback": {auth: widget, path: "/v1/widget/conversations/{visit}/feedback", body: `{"message_id": 1, "helpful": true}`},
	"POST /v1/widget/conversations/:id/handoff":  {auth: widget, path: "/v1/widget/conversations/{visit}/handoff", body: `{}`},

	"GET /v1/workspace":                                  {auth: v1, role: parley.RoleWidget, path: "/v1/workspace"},
	"POST /v1/answer":                                    {auth: v1, role: parley.RoleWidget, path: "/v1/answer", body: `{"message": {"text": "hello"}}`},
	"POST /v1/conversations/:id/feedback":                {auth: v1, role: parley.RoleWidget, path: "/v1/conversations/{conversation}/feedback", body: `{"message_id": 1, "helpful": true}`},
	"POST /v1/conversations/:id/handoff":                 {auth: v1, role: parley.RoleWidget, path: "/v1/conversations/{conversation}/handoff", body: `{}`},
	"GET /v1/conversations/:id":                          {auth: v1, role: parley.RoleAgent, path: "/v1/conversations/{conversation}"},
	"POST /v1/conversations/:id/summary":                 {auth: v1, role: parley.RoleAgent, path: "/v1/conversations/{conversation}/summary", body: `{}`},
	"POST /v1/conversations/:id/messages":                {auth: v1, role: parley.RoleAgent, path: "/v1/conversations/{conversation}/messages", body: `{"agent_id": "{agent}", "text": "x"}`},
	"POST /v1/suggestions":                               {auth: v1, role: parley.RoleAgent, path: "/v1/suggestions", body: `{"conversation_id": "{conversation}"}`},
	"POST /v1/translate":                                 {auth: v1, role: parley.RoleAgent, path: "/v1/translate", body: `{"text": "hallo", "to": "en"}`},
	"POST /v1/rewrite":                                   {auth: v1, role: parley.RoleAgent, path: "/v1/rewrite", body: `{"text": "hello", "tone": "friendly"}`},
	"GET /v1/conversations/resolved":                     {auth: v1, role: parley.RoleAgent, path: "/v1/conversations/resolved", badQuery: []string{"since=notatime", "limit=abc", "after=garbage"}},
	"GET /v1/escalations":                                {auth: v1, role: parley.RoleAgent, path: "/v1/escalations", badQuery: []string{"status=bogus", "after=garbage"}},
	"GET /v1/agents":                                     {auth: v1, role: parley.RoleAgent, path: "/v1/agents"},
	"GET /v1/escalations/events":                         {auth: v1, role: parley.RoleAgent, path: "/v1/escalations/events", badQuery: []string{"team=no%20such%20team%21"}},
	"GET /v1/escalations/:id":                            {auth: v1, role: parley.RoleAgent, path: "/v1/escalations/{escalation}"},
	"POST /v1/escalations/:id/claim":                     {auth: v1, role: parley.RoleAgent, path: "/v1/escalations/{escalation}/claim", body: `{"agent_id": "{agent}"}`},
	"POST /v1/escalations/:id/resolve":                   {auth: v1, role: parley.RoleAgent, path: "/v1/escalations/{escalation}/resolve", body: `{"agent_id": "{agent}", "reply": "done"}`},
	"PUT /v1/workspace/settings":                         {auth: v1, role: parley.RoleAdmin, path: "/v1/workspace/settings", body: `{"greeting": "Hi"}`},
	"GET /v1/knowledge-bases":                            {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases"},
	"POST /v1/knowledge-bases":                           {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases", body: `{"name": "more"}`},
	"GET /v1/knowledge-bases/:kb":                        {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}"},
	"DELETE /v1/knowledge-bases/:kb":                     {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}"},
	"GET /v1/knowledge-bases/:kb/sources":                {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/sources"},
	"DELETE /v1/knowledge-bases/:kb/sources/:source":     {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/sources/{source}", badQuery: []string{"by=bogus"}},
	"GET /v1/knowledge-bases/:kb/sources/:source/chunks": {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/sources/{source}/chunks", badQuery: []string{"by=bogus"}},
	"POST /v1/knowledge-bases/:kb/uploads": {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/uploads",
		body: `{"records": [{"id": "more", "question": "Do you ship abroad?", "answer": "Yes."}]}`},
	"GET /v1/knowledge-bases/:kb/jobs/:job":   {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/jobs/{job}"},
	"GET /v1/knowledge-bases/:kb/origin":      {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/origin"},
	"PUT /v1/knowledge-bases/:kb/origin":      {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/origin", body: `{"url": "https://shop.example/help"}`},
	"POST /v1/knowledge-bases/:kb/sync":       {auth: v1, role: parley.RoleAdmin, path: "/v1/knowledge-bases/{kb}/sync", badQuery: []string{"dry_run=maybe"}},
	"GET /v1/teams":                           {auth: v1, role: parley.RoleAdmin, path: "/v1/teams"},
	"POST /v1/teams":                          {auth: v1, role: parley.RoleAdmin, path: "/v1/teams", body: `{"name": "more"}`},
	"DELETE /v1/teams/:team":                  {auth: v1, role: parley.RoleAdmin, path: "/v1/teams/{team}"},
	"POST /v1/agents":                         {auth: v1, role: parley.RoleAdmin, path: "/v1/agents", body: `{"name": "Cy", "team": "support"}`},
	"PATCH /v1/agents/:id":                    {auth: v1, role: parley.RoleAdmin, path: "/v1/agents/{agent}", body: `{"active": true}`},
	"DELETE /v1/agents/:id":                   {auth: v1, role: parley.RoleAdmin, path: "/v1/agents/{agent}"},
	"GET /v1/routing-rules":                   {auth: v1, role: parley.RoleAdmin, path: "/v1/routing-rules"},
	"POST /v1/routing-rules":                  {auth: v1, role: parley.RoleAdmin, path: "/v1/routing-rules", body: `{"match_tag": "vip", "team": "support"}`},
	"DELETE /v1/routing-rules/:id":            {auth: v1, role: parley.RoleAdmin, path: "/v1/routing-rules/{rule}"},
	"GET /v1/webhook":                         {auth: v1, role: parley.RoleAdmin, path: "/v1/webhook"},
	"PUT /v1/webhook":                         {auth: v1, role: parley.RoleAdmin, path: "/v1/webhook", body: `{"url": "https://hooks.example/parley"}`},
	"DELETE /v1/webhook":                      {auth: v1, role: parley.RoleAdmin, path: "/v1/webhook"},
	"POST /v1/widget-keys":                    {auth: v1, role: parley.RoleAdmin, path: "/v1/widget-keys", body: `{"name": "site", "allowed_origins": ["https://more.example"]}`},
	"PUT /v1/widget-keys/:id":                 {auth: v1, role: parley.RoleAdmin, path: "/v1/widget-keys/{widgetkey}", body: `{"allowed_origins": ["https://shop.example"]}`},
	"POST /v1/workspace/identity-secret":      {auth: v1, role: parley.RoleAdmin, path: "/v1/workspace/identity-secret"},
	"GET /v1/analytics/summary":               {auth: v1, role: parley.RoleAdmin, path: "/v1/analytics/summary", badQuery: []string{"interval=fortnight", "from=yesterday", "to=2026-13-45"}},
	"GET /v1/analytics/gaps":                  {auth: v1, role: parley.RoleAdmin, path: "/v1/analytics/gaps", badQuery: []string{"from=yesterday"}},
	"POST /v1/evals/runs":                     {auth: v1, role: parley.RoleAdmin, path: "/v1/evals/runs", body: evalReport("sample", 0.95)},
	"GET /v1/evals/runs":                      {auth: v1, role: parley.RoleAdmin, path: "/v1/evals/runs", badQuery: []string{"limit=abc", "limit=-1"}},
	"GET /v1/evals/runs/:id":                  {auth: v1, role: parley.RoleAdmin, path: "/v1/evals/runs/{evalrun}"},
	"GET /v1/learning/phrasings":              {auth: v1, role: parley.RoleAdmin, path: "/v1/learning/phrasings", badQuery: []string{"status=bogus", "limit=abc", "after=garbage"}},
	"POST /v1/learning/phrasings/:id/approve": {auth: v1, role: parley.RoleAdmin, path: "/v1/learning/phrasings/{phrasing}/approve"},
	"POST /v1/learning/phrasings/:id/reject":  {auth: v1, role: parley.RoleAdmin, path: "/v1/learning/phrasings/{phrasing}/reject"},

	"GET /app":                               {auth: public, path: "/app"},
	"GET /app/":                              {auth: page, role: parley.RoleAgent, path: "/app/"},
	"GET /app/static/:file":                  {auth: public, path: "/app/static/{file}"},
	"GET /app/login":                         {auth: public, path: "/app/login"},
	"POST /app/login":                        {auth: public, path: "/app/login"},
	"POST /app/logout":                       {auth: page, role: parley.RoleAgent, path: "/app/logout"},
	"GET /app/inbox":                         {auth: page, role: parley.RoleAgent, path: "/app/inbox"},
	"GET /app/knowledge":                     {auth: page, role: parley.RoleAdmin, path: "/app/knowledge"},
	"GET /app/knowledge/:kb":                 {auth: page, role: parley.RoleAdmin, path: "/app/knowledge/{kb}"},
	"GET /app/knowledge/:kb/sources/:source": {auth: page, role: parley.RoleAdmin, path: "/app/knowledge/{kb}/sources/{source}"},
	"GET /app/analytics":                     {auth: page, role: parley.RoleAdmin, path: "/app/analytics"},
	"GET /app/analytics/evals/:id":           {auth: page, role: parley.RoleAdmin, path: "/app/analytics/evals/{evalrun}"},
}

// unknownIDs are ids no object has, by placeholder.
var unknownIDs = map[string]string{
	"conversation": "00000000-0000-4000-8000-000000000000", "escalation": "00000000-0000-4000-8000-000000000000",
	"agent": "00000000-0000-4000-8000-000000000000", "rule": "00000000-0000-4000-8000-000000000000",
	"widgetkey": "00000000-0000-4000-8000-000000000000", "evalrun": "999999999",
	"phrasing": "00000000-0000-4000-8000-000000000000", "job": "00000000-0000-4000-8000-000000000000",
	"source": "999999999", "visit": "00000000-0000-4000-8000-000000000000",
	"kb": "nosuch", "team": "nosuch", "file": "nosuch.css",
}

var placeholder = regexp.MustCompile(`\{([a-z]+)\}`)

// fill replaces the placeholders of s with ids[name], or own[name] for
// those ids lacks.
func fill(s string, ids, own map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := ids[name]; ok {
			return v
		}
		return own[name]
	})
}

// auditWorkspace makes one object of each kind the routes name in e's
// workspace and returns their ids by placeholder.
func auditWorkspace(t *testing.T, e *env, kb, team string) map[string]string {
	t.Helper()
	admin := e.keys[parley.RoleAdmin]
	ids := map[string]string{"kb": kb, "team": team, "file": "console.css"}
	if status, body := e.do("POST", "/v1/knowledge-bases", admin, `{"name": "`+kb+`"}`); status != 201 {
		t.Fatalf("create knowledge base: %d %v", status, body)
	}
	status, body := e.do("POST", "/v1/knowledge-bases/"+kb+"/uploads", admin,
		`{"records": [{"id": "pw", "question": "How do I reset my password?", "answer": "Use the reset link."}]}`)
	if status != 200 {
		t.Fatalf("upload: %d %v", status, body)
	}
	_, body = e.do("GET", "/v1/knowledge-bases/"+kb+"/sources", admin, "")
	ids["source"] = fmt.Sprint(list(body, "sources")[0].(map[string]any)["id"])
	e.create("/v1/teams", `{"name": "`+team+`"}`)
	ids["agent"] = e.create("/v1/agents", `{"name": "Ada", "team": "`+team+`"}`)
	ids["rule"] = e.create("/v1/routing-rules", `{"match_intent": "refund", "team": "`+team+`"}`)
	_, body = e.do("POST", "/v1/widget-keys", admin, `{"name": "site", "allowed_origins": ["https://shop.example"]}`)
	ids["widgetkey"], _ = body["id"].(string)
	ids["widgetsecret"], _ = body["key"].(string)
	status, body = e.do("POST", "/v1/evals/runs", admin, evalReport("sample", 0.95))
	if status != 201 {
		t.Fatalf("eval run: %d %v", status, body)
	}
	ids["evalrun"] = fmt.Sprint(body["id"])
	// No ingest job or learnt phrasing is made: their routes get ids no
	// object has, as their own and as another workspace's.
	ids["job"], ids["phrasing"] = unknownIDs["job"], unknownIDs["phrasing"]
	ids["escalation"], ids["conversation"] = e.escalate("I want to talk to a human")
	b := &browser{e: e, key: ids["widgetsecret"], origin: "https://shop.example"}
	b.session(nil)
	_, _, body = b.call("POST", "/v1/widget/messages", map[string]any{"text": "hello"})
	ids["visit"], _ = body["conversation_id"].(string)
	ids["visitor"] = b.token
	for name, id := range ids {
		if id == "" {
			t.Fatalf("no %s id: %v", name, ids)
		}
	}
	return ids
}

// fingerprint is every row of the workspace, in every table that has a
// workspace_id, and the workspace's own row, but for when keys and
// sessions were last used.
func fingerprint(t *testing.T, workspace string) string {
	t.Helper()
	ctx, pool := context.Background(), pgtest.DB(t).Pool()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE column_name = 'workspace_id' AND table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range append(tables, "workspaces") {
		col := "workspace_id"
		if table == "workspaces" {
			col = "id"
		}
		var sum string
		err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(md5((to_jsonb(t) - 'last_used_at' - 'last_seen_at')::text), ',' ORDER BY md5((to_jsonb(t) - 'last_used_at' - 'last_seen_at')::text)), '')
			FROM `+table+` t WHERE `+col+` = $1`, workspace).Scan(&sum)
		if err != nil {
			t.Fatalf("fingerprint %s: %v", table, err)
		}
		b.WriteString(table + ":" + sum + "\n")
	}
	return b.String()
}

// badRequest is one request the audit sends and the answer it wants.
type badRequest struct {
	what         string
	method, path string
	header       map[string]string
	body         string
	status       int
	code         string // "" for a console page (HTML), which is checked by status only
}

// Every route answers bad input with a JSON error of a stable code and the
// right status, and writes nothing: missing and wrong keys, a widget or
// agent key where more is needed, malformed JSON, a wrong Content-Type, a
// body over the limit, unknown ids, another workspace's ids, a method the
// route does not have. The console API is walked as well, signed in.
func TestBadInputOnEveryRoute(t *testing.T) {
	t.Parallel()
	// Limits small enough to pass cheaply, the widget's rate limits out of the way.
	e := newEnvWith(t, func(o *api.Options) {
		withAssistant(t, nil, 0)(o)
		o.Origins = origins{pgtest.DB(t), jobs.SyncEnqueuer{}, nil}
		o.MaxUploadBytes, o.MaxEvalReportBytes = auditLimit, auditLimit
		many := ratelimit.Rate{Events: 100000, Per: time.Minute}
		o.WidgetLimits = api.WidgetLimits{Visitor: many, Key: many, Address: many, NewConversations: many}
	})
	other := newEnv(t)
	ids := auditWorkspace(t, e, "faq", "support")
	foreign := auditWorkspace(t, other, "theirs", "theirteam")
	foreign["file"] = "nosuch.js"
	console := newConsoleUser(t, e.srv.URL)
	console.mustSignIn(e.keys[parley.RoleAdmin])
	agentConsole := newConsoleUser(t, e.srv.URL)
	agentConsole.mustSignIn(e.keys[parley.RoleAgent])

	routes := e.server.Routes()
	registered := map[string][]string{} // path -> methods
	for _, r := range routes {
		registered[r.Path] = append(registered[r.Path], r.Method)
	}
	before, beforeOther := fingerprint(t, e.ws.ID), fingerprint(t, other.ws.ID)
	var reqs []badRequest
	for _, r := range routes {
		name := r.Method + " " + r.Path
		consoleAPI := strings.HasPrefix(r.Path, "/app/api/v1/")
		spec, ok := routeSpecs[strings.Replace(name, "/app/api/v1/", "/v1/", 1)]
		if !ok {
			t.Errorf("route %s has no entry in routeSpecs: add one, saying how to call it", name)
			continue
		}
		path := spec.path
		if consoleAPI {
			path = "/app/api" + path
		}
		reqs = append(reqs, badInputs(r.Method, path, spec, consoleAPI, registered[r.Path], ids, foreign, e, console, agentConsole)...)
	}
	for _, br := range reqs {
		status, ct, body := send(t, e.srv.URL, br)
		if status != br.status {
			t.Errorf("%s %s (%s): status %d, want %d: %s", br.method, br.path, br.what, status, br.status, body)
			continue
		}
		if br.code == "" {
			continue
		}
		var out struct {
			Error struct{ Code, Message string }
		}
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &out) != nil {
			t.Errorf("%s %s (%s): %d with %s, not a JSON error: %s", br.method, br.path, br.what, status, ct, body)
			continue
		}
		if out.Error.Code != br.code || out.Error.Message == "" {
			t.Errorf("%s %s (%s): code %q message %q, want code %q and a message", br.method, br.path, br.what, out.Error.Code, out.Error.Message, br.code)
		}
	}
	if after := fingerprint(t, e.ws.ID); after != before {
		t.Errorf("bad requests changed the workspace's rows:\nbefore\n%s\nafter\n%s", before, after)
	}
	if after := fingerprint(t, other.ws.ID); after != beforeOther {
		t.Errorf("bad requests changed the other workspace's rows:\nbefore\n%s\nafter\n%s", beforeOther, after)
	}
	// One unknown key stands for all: every /v1 route has the same
	// authentication, and failures are throttled per client address.
	status, body := e.do("GET", "/v1/workspace", "pk_nosuchkey", "")
	wantError(t, status, body, 401, "unauthorized")
	t.Logf("%d routes, %d bad requests", len(routes), len(reqs))
}

// badInputs lists the bad requests that apply to one route.
func badInputs(method, path string, spec routeSpec, consoleAPI bool, methods []string, ids, foreign map[string]string,
	e *env, console, agentConsole *consoleUser) []badRequest {
	var out []badRequest
	good := func(what string, status int, code string) badRequest {
		h := map[string]string{}
		switch {
		case spec.auth == widget:
			h["Authorization"] = "Bearer " + ids["widgetsecret"]
			h["Origin"] = "https://shop.example"
			h["X-Parley-Visitor"] = ids["visitor"]
		case spec.auth == v1 && !consoleAPI:
			h["Authorization"] = "Bearer " + e.keys[parley.RoleAdmin]
		case consoleAPI || spec.auth == page:
			h["X-CSRF-Token"] = console.csrf
			h["Cookie"] = "parley_session=" + sessionCookieOf(console).Value
		}
		body := fill(spec.body, nil, ids)
		if body != "" {
			h["Content-Type"] = "application/json"
		}
		return badRequest{what: what, method: method, path: fill(path, nil, ids), header: h, body: body, status: status, code: code}
	}
	jsonCode := func(code string) string {
		if spec.auth == page {
			return ""
		}
		return code
	}

	// A method the route does not have.
	for _, m := range []string{"PATCH", "PUT", "DELETE", "POST", "GET"} {
		if !slices.Contains(methods, m) {
			br := good("method "+m, 405, "method_not_allowed")
			br.method = m
			out = append(out, br)
			break
		}
	}

	// Keys.
	switch {
	case method == "OPTIONS": // a CORS preflight: no key, the origin must be a live widget key's
		br := good("another origin", 403, "origin_not_allowed")
		br.header["Origin"] = "https://evil.example"
		out = append(out, br)
	case spec.auth == widget:
		br := good("no key", 401, "unauthorized")
		delete(br.header, "Authorization")
		out = append(out, br)
		br = good("an agent key", 403, "forbidden")
		br.header["Authorization"] = "Bearer " + e.keys[parley.RoleAgent]
		out = append(out, br)
		br = good("another origin", 403, "origin_not_allowed")
		br.header["Origin"] = "https://evil.example"
		out = append(out, br)
		br = good("no visitor token", 401, "unauthorized")
		delete(br.header, "X-Parley-Visitor")
		if path != "/v1/widget/session" {
			out = append(out, br)
		}
	case spec.auth == v1 && consoleAPI:
		br := good("signed out", 401, "unauthorized")
		delete(br.header, "Cookie")
		out = append(out, br)
		if method != "GET" {
			br = good("no CSRF token", 403, "forbidden")
			delete(br.header, "X-CSRF-Token")
			out = append(out, br)
		}
		if spec.role == parley.RoleAdmin {
			br = good("an agent's session", 403, "forbidden")
			br.header["Cookie"] = "parley_session=" + sessionCookieOf(agentConsole).Value
			br.header["X-CSRF-Token"] = agentConsole.csrf
			out = append(out, br)
		}
	case spec.auth == v1:
		br := good("no key", 401, "unauthorized")
		delete(br.header, "Authorization")
		out = append(out, br)
		if path != "/v1/workspace" {
			br = good("a publishable widget key", 403, "forbidden")
			br.header["Authorization"] = "Bearer " + ids["widgetsecret"]
			out = append(out, br)
		}
		for _, low := range []parley.Role{parley.RoleWidget, parley.RoleAgent} {
			if !low.Allows(spec.role) {
				br = good("a "+string(low)+" key", 403, "forbidden")
				br.header["Authorization"] = "Bearer " + e.keys[low]
				out = append(out, br)
			}
		}
	}

	// Bodies.
	if spec.body != "" {
		br := good("malformed JSON", 400, "invalid")
		br.body = `{"text": `
		out = append(out, br)
		br = good("wrong Content-Type", 415, "unsupported_media_type")
		br.header["Content-Type"] = "text/plain"
		out = append(out, br)
		br = good("body over the limit", 413, "too_large")
		br.body = `{"text": "` + strings.Repeat("a", max(auditLimit, assistBodyLimit)) + `"}`
		out = append(out, br)
	}

	for _, q := range spec.badQuery {
		br := good("query "+q, 400, "invalid")
		br.path += "?" + q
		out = append(out, br)
	}

	// Ids: none that exists, and another workspace's.
	for _, m := range placeholder.FindAllStringSubmatch(path, -1) {
		name := m[1]
		br := good("unknown "+name, 404, jsonCode("not_found"))
		br.path = fill(path, map[string]string{name: unknownIDs[name]}, ids)
		out = append(out, br)
		br = good("another workspace's "+name, 404, jsonCode("not_found"))
		br.path = fill(path, map[string]string{name: foreign[name]}, ids)
		out = append(out, br)
	}
	return out
}

// auditLimit is the audited server's limit for uploads and eval reports.
const auditLimit = 64 << 10

// send makes one request and returns the status, Content-Type and body.
func send(t *testing.T, base string, br badRequest) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(br.method, base+br.path, strings.NewReader(br.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range br.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", br.method, br.path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}
