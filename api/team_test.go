package api_test

import (
	"testing"

	"github.com/parleyhq/parley"
)

// create POSTs body to path with the admin key, expects 201 and returns the
// new object's id.
func (e *env) create(path, body string) string {
	e.t.Helper()
	status, resp := e.do("POST", path, e.keys[parley.RoleAdmin], body)
	if status != 201 {
		e.t.Fatalf("POST %s %s: %d %v", path, body, status, resp)
	}
	id, _ := resp["id"].(string)
	return id
}

func list(body map[string]any, key string) []any {
	l, _ := body[key].([]any)
	return l
}

func TestTeamsAgentsAndRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	e.create("/v1/teams", `{"name": "support"}`)
	e.create("/v1/teams", `{"name": "billing"}`)
	ada := e.create("/v1/agents", `{"name": "Ada", "email": "ada@example.com", "team": "support", "skills": ["de", "refunds"]}`)
	e.create("/v1/agents", `{"name": "Bo", "team": "billing", "active": false}`)
	rule := e.create("/v1/routing-rules", `{"match_intent": "refund", "team": "billing", "priority": 5}`)
	e.create("/v1/routing-rules", `{"match_tag": "vip", "team": "support"}`)

	status, body := e.do("GET", "/v1/teams", admin, "")
	if teams := list(body, "teams"); status != 200 || len(teams) != 2 {
		t.Fatalf("teams: %d %v", status, body)
	}
	if billing := list(body, "teams")[0].(map[string]any); billing["name"] != "billing" || billing["agents"] != 1.0 || billing["active_agents"] != 0.0 {
		t.Fatalf("billing team %v", billing)
	}
	status, body = e.do("GET", "/v1/agents?team=support", admin, "")
	agents := list(body, "agents")
	if status != 200 || len(agents) != 1 {
		t.Fatalf("agents of support: %d %v", status, body)
	}
	if a := agents[0].(map[string]any); a["id"] != ada || a["team"] != "support" || a["active"] != true || len(a["skills"].([]any)) != 2 {
		t.Fatalf("agent %v", a)
	}
	status, body = e.do("PATCH", "/v1/agents/"+ada, admin, `{"active": false, "team": "billing", "skills": []}`)
	if status != 200 || body["active"] != false || body["team"] != "billing" || len(body["skills"].([]any)) != 0 || body["name"] != "Ada" {
		t.Fatalf("patch: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/routing-rules", admin, "")
	if rules := list(body, "routing_rules"); status != 200 || len(rules) != 2 || rules[0].(map[string]any)["id"] != rule {
		t.Fatalf("rules: %d %v", status, body)
	}

	const missing = "00000000-0000-0000-0000-000000000000"
	errs := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"team without name", "POST", "/v1/teams", `{}`, 400, "invalid"},
		{"duplicate team", "POST", "/v1/teams", `{"name": "support"}`, 409, "conflict"},
		{"bad team name", "POST", "/v1/teams", `{"name": "a/b"}`, 400, "invalid"},
		{"agent of unknown team", "POST", "/v1/agents", `{"name": "C", "team": "nope"}`, 400, "invalid"},
		{"agent without team", "POST", "/v1/agents", `{"name": "C"}`, 400, "invalid"},
		{"agent with unknown field", "POST", "/v1/agents", `{"name": "C", "team": "support", "role": "x"}`, 400, "invalid"},
		{"agents of unknown team", "GET", "/v1/agents?team=nope", "", 400, "invalid"},
		{"patch unknown agent", "PATCH", "/v1/agents/" + missing, `{"active": true}`, 404, "not_found"},
		{"patch malformed id", "PATCH", "/v1/agents/abc", `{"active": true}`, 404, "not_found"},
		{"patch to unknown team", "PATCH", "/v1/agents/" + ada, `{"team": "nope"}`, 400, "invalid"},
		{"patch wrong type", "PATCH", "/v1/agents/" + ada, `{"active": "yes"}`, 400, "invalid"},
		{"rule with both matches", "POST", "/v1/routing-rules", `{"match_intent": "a", "match_tag": "b", "team": "support"}`, 400, "invalid"},
		{"rule without match", "POST", "/v1/routing-rules", `{"team": "support"}`, 400, "invalid"},
		{"rule to unknown team", "POST", "/v1/routing-rules", `{"match_tag": "b", "team": "nope"}`, 400, "invalid"},
		{"delete unknown rule", "DELETE", "/v1/routing-rules/" + missing, "", 404, "not_found"},
		{"delete unknown agent", "DELETE", "/v1/agents/" + missing, "", 404, "not_found"},
		{"delete unknown team", "DELETE", "/v1/teams/nope", "", 404, "not_found"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, tt.path, admin, tt.body)
			wantError(t, status, body, tt.status, tt.code)
		})
	}

	// Agent keys cannot manage teams, agents or rules; they may list the
	// agents (the console's agents say who they are).
	for _, path := range []string{"/v1/teams", "/v1/routing-rules"} {
		status, body := e.do("GET", path, e.keys[parley.RoleAgent], "")
		wantError(t, status, body, 403, "forbidden")
	}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/v1/agents", `{"name": "Eve", "team": "support"}`},
		{"PATCH", "/v1/agents/" + ada, `{"active": false}`},
		{"DELETE", "/v1/agents/" + ada, ""},
	} {
		status, body := e.do(req.method, req.path, e.keys[parley.RoleAgent], req.body)
		wantError(t, status, body, 403, "forbidden")
	}
	if status, body := e.do("GET", "/v1/agents", e.keys[parley.RoleAgent], ""); status != 200 || len(list(body, "agents")) == 0 {
		t.Fatalf("agents listed with an agent key: %d %v", status, body)
	}
	if status, body := e.do("GET", "/v1/agents", e.keys[parley.RoleWidget], ""); status != 403 {
		t.Fatalf("agents listed with a widget key: %d %v, want 403", status, body)
	}

	for _, path := range []string{"/v1/routing-rules/" + rule, "/v1/agents/" + ada, "/v1/teams/billing"} {
		if status, body := e.do("DELETE", path, admin, ""); status != 204 {
			t.Fatalf("DELETE %s: %d %v", path, status, body)
		}
	}
	status, body = e.do("GET", "/v1/agents", admin, "")
	if status != 200 || len(list(body, "agents")) != 0 {
		t.Fatalf("agents after deleting billing (with Bo) and Ada: %v", body)
	}
	if _, body = e.do("GET", "/v1/routing-rules", admin, ""); len(list(body, "routing_rules")) != 1 {
		t.Fatalf("rules after deletions: %v", body)
	}
}

// An escalation routed by a rule goes to the rule's team and its agent.
func TestRoutingThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("/v1/teams", `{"name": "humans"}`)
	agent := e.create("/v1/agents", `{"name": "Hana", "team": "humans"}`)
	// No knowledge: the engine escalates with no candidate, so only the
	// default team can match; make it the humans team.
	if status, body := e.do("PUT", "/v1/workspace/settings", e.keys[parley.RoleAdmin], `{"default_team": "humans"}`); status != 200 {
		t.Fatalf("settings: %d %v", status, body)
	}
	id, _ := e.escalate("I want to talk to a human please")
	status, body := e.do("GET", "/v1/escalations/"+id, e.keys[parley.RoleAgent], "")
	if status != 200 || body["team"] != "humans" || body["assignee"] != agent || body["assignee_name"] != "Hana" {
		t.Fatalf("escalation: %d %v", status, body)
	}
	if body["reason"] != parley.ReasonHumanRequested {
		t.Errorf("reason %v, want human_requested", body["reason"])
	}
}
