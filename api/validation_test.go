package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

// Path parameters no object can have (a NUL, an overlong UTF-8 slash) are
// not found, checked by the rules the objects were created by, and never
// reach the database as text it cannot hold.
func TestOddPathParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	if status, body := e.do("POST", "/v1/knowledge-bases", admin, `{"name": "faq"}`); status != 201 {
		t.Fatalf("create knowledge base: %d %v", status, body)
	}
	routes := []struct{ method, path, body string }{
		{"GET", "/v1/knowledge-bases/X", ""},
		{"DELETE", "/v1/knowledge-bases/X", ""},
		{"GET", "/v1/knowledge-bases/X/sources", ""},
		{"DELETE", "/v1/knowledge-bases/faq/sources/X", ""},
		{"GET", "/v1/knowledge-bases/faq/jobs/X", ""},
		{"DELETE", "/v1/teams/X", ""},
		{"PATCH", "/v1/agents/X", `{"active": false}`},
		{"DELETE", "/v1/agents/X", ""},
		{"DELETE", "/v1/routing-rules/X", ""},
		{"GET", "/v1/escalations/X", ""},
		{"POST", "/v1/escalations/X/claim", `{"agent_id": "X"}`},
		{"GET", "/v1/conversations/X", ""},
		{"POST", "/v1/conversations/X/messages", `{"agent_id": "a", "text": "hi"}`},
	}
	for _, odd := range []string{"%00", "%C0%AF", "a%00b", "%FF", strings.Repeat("x", 300)} {
		for _, r := range routes {
			path := strings.ReplaceAll(r.path, "X", odd)
			status, body := e.do(r.method, path, admin, r.body)
			if status != http.StatusNotFound {
				t.Errorf("%s %s: %d %v, want 404", r.method, path, status, body)
			}
		}
	}
}

// Settings are checked by the rules of what they name: the default team's
// name by team creation's (the first escalation creates the team), and
// languages must be ISO 639-1 codes; so must a customer's language.
func TestSettingsAndLanguagesAreValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, widget := e.keys[parley.RoleAdmin], e.keys[parley.RoleWidget]
	for _, body := range []string{
		`{"default_team": "no such team!"}`,
		`{"default_team": "../../x"}`,
		`{"default_team": "` + strings.Repeat("t", 300) + `"}`,
		`{"default_team": "x'; DROP TABLE teams; --"}`,
		`{"languages": ["klingon"]}`,
		`{"languages": ["en", "xx"]}`,
	} {
		status, resp := e.do("PUT", "/v1/workspace/settings", admin, body)
		wantError(t, status, resp, http.StatusBadRequest, "invalid")
	}
	status, resp := e.do("PUT", "/v1/workspace/settings", admin, `{"default_team": "billing", "languages": ["de", "pt-BR"]}`)
	if status != 200 {
		t.Fatalf("valid settings: %d %v", status, resp)
	}
	status, resp = e.do("POST", "/v1/answer", widget, `{"customer": {"language": "klingon"}, "message": {"text": "where is my parcel?"}}`)
	wantError(t, status, resp, http.StatusBadRequest, "invalid")
	if msg := resp["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "customer.language") {
		t.Errorf("message %q does not name customer.language", msg)
	}
}
