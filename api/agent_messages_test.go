package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

// An agent replies several times, writes a note and resolves without a
// final reply; the customer's next message goes to the bot again. Bad
// requests get clear errors and change nothing.
func TestAgentMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agentKey := e.keys[parley.RoleAgent]
	e.create("/v1/teams", `{"name": "support"}`)
	ada := e.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	bo := e.create("/v1/agents", `{"name": "Bo", "team": "support"}`)
	_, conv := e.escalate("I want to talk to a human")
	path := "/v1/conversations/" + conv + "/messages"

	status, body := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], `{"conversation_id": "`+conv+`", "message": {"text": "hello? anyone?"}}`)
	if status != 200 || body["status"] != "queued" || body["state"] != "waiting" || body["answer"] != nil {
		t.Fatalf("message while waiting: %d %v, want queued with the bot silent", status, body)
	}
	for _, text := range []string{"Hi, Ada here.", "Let me check your order."} {
		status, body = e.do("POST", path, agentKey, `{"agent_id": "`+ada+`", "text": "`+text+`"}`)
		if status != 200 || body["state"] != "agent" {
			t.Fatalf("reply %q: %d %v", text, status, body)
		}
	}
	if status, body = e.do("POST", path, agentKey, `{"agent_id": "`+ada+`", "text": "refund approved by Sam", "internal": true}`); status != 200 {
		t.Fatalf("note: %d %v", status, body)
	}

	const missing = "00000000-0000-4000-8000-000000000000"
	other := newEnv(t)
	_, foreign := other.escalate("I want to talk to a human")
	errs := []struct {
		name, path, body, contentType string
		status                        int
		code                          string
	}{
		{"unknown conversation", "/v1/conversations/" + missing + "/messages", `{"agent_id": "` + ada + `", "text": "x"}`, "application/json", 404, "not_found"},
		{"another workspace's conversation", "/v1/conversations/" + foreign + "/messages", `{"agent_id": "` + ada + `", "text": "x"}`, "application/json", 404, "not_found"},
		{"agent who does not hold it", path, `{"agent_id": "` + bo + `", "text": "x"}`, "application/json", 409, "conflict"},
		{"no text", path, `{"agent_id": "` + ada + `"}`, "application/json", 400, "invalid"},
		{"oversized", path, `{"agent_id": "` + ada + `", "text": "` + strings.Repeat("a", testBodyLimit) + `"}`, "application/json", 413, "too_large"},
		{"wrong content type", path, `agent_id=` + ada + `&text=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+agentKey)
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	if status, body = e.do("POST", path, e.keys[parley.RoleWidget], `{"agent_id": "`+ada+`", "text": "x"}`); status != 403 {
		t.Fatalf("a widget key sending an agent message: %d %v", status, body)
	}

	status, body = e.do("POST", path, agentKey, `{"agent_id": "`+ada+`", "resolve": true}`)
	esc, _ := body["escalation"].(map[string]any)
	if status != 200 || body["state"] != "resolved" || esc["resolution"] != "Let me check your order." {
		t.Fatalf("resolve without a reply: %d %v", status, body)
	}
	if status, body = e.do("POST", path, agentKey, `{"agent_id": "`+bo+`", "text": "late"}`); status != 409 {
		t.Fatalf("message to a resolved conversation by an agent who does not hold it: %d %v", status, body)
	}

	status, body = e.do("GET", "/v1/conversations/"+conv, agentKey, "")
	msgs := list(body, "messages")
	if status != 200 || len(msgs) != 6 || body["status"] != "resolved" {
		t.Fatalf("transcript: %d %d messages, status %v; want 6 (question, handoff notice, queued message, 2 replies, note) and resolved", status, len(msgs), body["status"])
	}
	notes := 0
	for _, m := range msgs {
		if m.(map[string]any)["internal"] == true {
			notes++
		}
	}
	if notes != 1 {
		t.Fatalf("%d notes in the agent's view, want 1", notes)
	}
}
