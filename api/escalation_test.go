package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// escalate sends a customer message that the engine escalates (there is no
// knowledge to answer from) and returns the escalation and conversation ids.
func (e *env) escalate(text string) (id, conversation string) {
	e.t.Helper()
	status, body := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], fmt.Sprintf(`{"message": {"text": %q}}`, text))
	esc, _ := body["escalation"].(map[string]any)
	if status != 200 || body["status"] != "escalated" || esc == nil {
		e.t.Fatalf("answer %q: %d %v, want an escalation", text, status, body)
	}
	return esc["id"].(string), body["conversation_id"].(string)
}

// escalateDirect records an escalation through the store, as the engine
// does, without the cost of answering.
func (e *env) escalateDirect() string {
	e.t.Helper()
	ctx, db := context.Background(), pgtest.DB(e.t)
	conv, err := db.CreateConversation(ctx, e.ws.ID, "chat", parley.Customer{}, "en")
	if err != nil {
		e.t.Fatal(err)
	}
	esc, _, err := db.Escalate(ctx, parley.NewEscalation{
		WorkspaceID: e.ws.ID, ConversationID: conv.ID, Reason: parley.ReasonHumanRequested,
		CustomerNotice: "Someone will reply.", Context: parley.EscalationContext{Question: "a person please", Candidates: []byte("[]")},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return esc.ID
}

// raw sends a GET and returns the status, headers and body unparsed.
func (e *env) raw(path, key string) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestEscalationLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agentKey := e.keys[parley.RoleAgent]
	e.create("/v1/teams", `{"name": "support"}`)
	ada := e.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	bo := e.create("/v1/agents", `{"name": "Bo", "team": "support"}`)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)

	first, conv := e.escalate("My plant arrived broken, I want to talk to a human")
	second, _ := e.escalate("Is there anyone who can help with an invoice?")

	// The list is oldest first and pages with next_after.
	status, body := e.do("GET", "/v1/escalations?status=open&limit=1", agentKey, "")
	page := list(body, "escalations")
	if status != 200 || len(page) != 1 || page[0].(map[string]any)["id"] != first || body["next_after"] == nil {
		t.Fatalf("first page: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/escalations?status=open&limit=1&after="+body["next_after"].(string), agentKey, "")
	page = list(body, "escalations")
	if status != 200 || len(page) != 1 || page[0].(map[string]any)["id"] != second || body["next_after"] != nil {
		t.Fatalf("second page: %d %v", status, body)
	}
	if _, body = e.do("GET", "/v1/escalations?team=support", agentKey, ""); len(list(body, "escalations")) != 2 {
		t.Fatalf("team filter: %v", body)
	}

	// The detail has the whole packet and the names.
	status, body = e.do("GET", "/v1/escalations/"+first, agentKey, "")
	ctx, _ := body["context"].(map[string]any)
	if status != 200 || body["team"] != "support" || body["assignee_name"] != "Ada" || body["conversation_id"] != conv ||
		ctx == nil || len(ctx["transcript"].([]any)) == 0 || !strings.Contains(ctx["question"].(string), "broken") {
		t.Fatalf("detail: %d %v", status, body)
	}

	const missing = "00000000-0000-0000-0000-000000000000"
	errs := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad status", "GET", "/v1/escalations?status=closed", "", 400, "invalid"},
		{"unknown team", "GET", "/v1/escalations?team=nope", "", 400, "invalid"},
		{"bad limit", "GET", "/v1/escalations?limit=0", "", 400, "invalid"},
		{"bad cursor", "GET", "/v1/escalations?after=xyz", "", 400, "invalid"},
		{"malformed id", "GET", "/v1/escalations/not-a-uuid", "", 404, "not_found"},
		{"unknown id", "GET", "/v1/escalations/" + missing, "", 404, "not_found"},
		{"claim unknown", "POST", "/v1/escalations/" + missing + "/claim", `{"agent_id": "` + ada + `"}`, 404, "not_found"},
		{"claim malformed id", "POST", "/v1/escalations/x/claim", `{"agent_id": "` + ada + `"}`, 404, "not_found"},
		{"claim without body", "POST", "/v1/escalations/" + first + "/claim", "", 400, "invalid"},
		{"claim without agent", "POST", "/v1/escalations/" + first + "/claim", `{}`, 400, "invalid"},
		{"claim by unknown agent", "POST", "/v1/escalations/" + first + "/claim", `{"agent_id": "` + missing + `"}`, 400, "invalid"},
		{"claim by malformed agent", "POST", "/v1/escalations/" + first + "/claim", `{"agent_id": "ada"}`, 400, "invalid"},
		{"resolve with a reply that is not text", "POST", "/v1/escalations/" + first + "/resolve", `{"agent_id": "` + ada + `", "reply": 5}`, 400, "invalid"},
		{"resolve without agent", "POST", "/v1/escalations/" + first + "/resolve", `{"reply": "x"}`, 400, "invalid"},
		{"resolve with unknown field", "POST", "/v1/escalations/" + first + "/resolve", `{"agent_id": "` + ada + `", "reply": "x", "text": "y"}`, 400, "invalid"},
		{"resolve unknown", "POST", "/v1/escalations/" + missing + "/resolve", `{"agent_id": "` + ada + `", "reply": "x"}`, 404, "not_found"},
		{"reply over the body limit", "POST", "/v1/escalations/" + first + "/resolve", `{"agent_id": "` + ada + `", "reply": "` + strings.Repeat("a", testBodyLimit) + `"}`, 413, "too_large"},
		{"bad since", "GET", "/v1/conversations/resolved?since=yesterday", "", 400, "invalid"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, tt.path, agentKey, tt.body)
			wantError(t, status, body, tt.status, tt.code)
		})
	}
	// Widgets cannot see escalations.
	status, body = e.do("GET", "/v1/escalations", e.keys[parley.RoleWidget], "")
	wantError(t, status, body, 403, "forbidden")

	// Bo claims; Ada, the routed assignee, then cannot.
	status, body = e.do("POST", "/v1/escalations/"+first+"/claim", agentKey, `{"agent_id": "`+bo+`"}`)
	if status != 200 || body["status"] != "claimed" || body["assignee"] != bo || body["claimed_at"] == nil {
		t.Fatalf("claim: %d %v", status, body)
	}
	status, body = e.do("POST", "/v1/escalations/"+first+"/claim", agentKey, `{"agent_id": "`+ada+`"}`)
	wantError(t, status, body, 409, "conflict")
	if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "Bo") || !strings.Contains(msg, bo) {
		t.Fatalf("conflict message %q does not name the holder", msg)
	}
	status, body = e.do("POST", "/v1/escalations/"+first+"/resolve", agentKey, `{"agent_id": "`+ada+`", "reply": "Mine"}`)
	wantError(t, status, body, 409, "conflict")

	const reply = "So sorry! A replacement plant ships today."
	status, body = e.do("POST", "/v1/escalations/"+first+"/resolve", agentKey, `{"agent_id": "`+bo+`", "reply": "`+reply+`"}`)
	if status != 200 || body["status"] != "resolved" || body["resolution"] != reply || body["resolved_at"] == nil {
		t.Fatalf("resolve: %d %v", status, body)
	}
	status, body = e.do("POST", "/v1/escalations/"+first+"/resolve", agentKey, `{"agent_id": "`+bo+`", "reply": "again"}`)
	wantError(t, status, body, 409, "conflict")

	// The customer sees the reply in the conversation, now resolved.
	status, body = e.do("GET", "/v1/conversations/"+conv, agentKey, "")
	msgs := list(body, "messages")
	if status != 200 || body["status"] != "resolved" || len(msgs) == 0 {
		t.Fatalf("conversation: %d %v", status, body)
	}
	if last := msgs[len(msgs)-1].(map[string]any); last["role"] != "agent" || last["text"] != reply {
		t.Fatalf("last message %v, want the agent's reply", last)
	}
	if _, body = e.do("GET", "/v1/escalations?status=resolved", agentKey, ""); len(list(body, "escalations")) != 1 {
		t.Fatalf("resolved list: %v", body)
	}

	// The resolved conversation comes out as JSON Lines the conversation
	// loader takes.
	status, header, jsonl := e.raw("/v1/conversations/resolved?since="+since, agentKey)
	if status != 200 || header.Get("Content-Type") != "application/x-ndjson" || strings.Count(jsonl, "\n") != 1 {
		t.Fatalf("resolved conversations: %d %s %q", status, header.Get("Content-Type"), jsonl)
	}
	docs, report, err := ingest.LoadReader(context.Background(), strings.NewReader(jsonl), "resolved.jsonl",
		ingest.LoadOptions{Kind: ingest.KindConversation})
	if err != nil || len(docs) != 1 {
		t.Fatalf("ingest the export: %d documents, %v (%+v)", len(docs), err, report)
	}
	if d := docs[0]; d.ExternalID != conv || d.Answer != reply || !strings.Contains(d.Question, "arrived broken") {
		t.Fatalf("ingested document: id %q question %q answer %q", d.ExternalID, d.Question, d.Answer)
	}
	if _, _, later := e.raw("/v1/conversations/resolved?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), agentKey); later != "" {
		t.Fatalf("resolved since the future: %q", later)
	}

	// An open escalation is claimed and resolved at once.
	status, body = e.do("POST", "/v1/escalations/"+second+"/resolve", agentKey, `{"agent_id": "`+ada+`", "reply": "Sure, invoice attached."}`)
	if status != 200 || body["status"] != "resolved" || body["assignee"] != ada || body["claimed_at"] == nil {
		t.Fatalf("resolve open: %d %v", status, body)
	}
}

// Two agents claim the same escalation at the same moment, many times:
// each time exactly one gets 200 and the other 409.
func TestConcurrentClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("/v1/teams", `{"name": "support"}`)
	agents := []string{e.create("/v1/agents", `{"name": "Ada", "team": "support"}`), e.create("/v1/agents", `{"name": "Bo", "team": "support"}`)}
	for round := range 20 {
		id := e.escalateDirect()
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, agent := range agents {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequest("POST", e.srv.URL+"/v1/escalations/"+id+"/claim", strings.NewReader(`{"agent_id": "`+agent+`"}`))
				req.Header.Set("Authorization", "Bearer "+e.keys[parley.RoleAgent])
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 409) && !(statuses[0] == 409 && statuses[1] == 200) {
			t.Fatalf("round %d: statuses %v, want one 200 and one 409", round, statuses)
		}
	}
}

// A key of workspace A reaches nothing of workspace B's escalation
// workflow, and B's agents cannot act in A.
func TestEscalationWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	a, b := newEnv(t), newEnvWith(t, allowPrivateWebhooks)
	adminA, agentA := a.keys[parley.RoleAdmin], a.keys[parley.RoleAgent]
	b.create("/v1/teams", `{"name": "support"}`)
	agentB := b.create("/v1/agents", `{"name": "Bea", "team": "support"}`)
	ruleB := b.create("/v1/routing-rules", `{"match_tag": "x", "team": "support"}`)
	if status, _ := b.do("PUT", "/v1/webhook", b.keys[parley.RoleAdmin], `{"url": "https://b.example.com/hook"}`); status != 200 {
		t.Fatal("webhook of B")
	}
	escB, convB := b.escalate("I need a human")
	if status, _ := b.do("POST", "/v1/escalations/"+escB+"/resolve", b.keys[parley.RoleAgent], `{"agent_id": "`+agentB+`", "reply": "Done"}`); status != 200 {
		t.Fatal("resolve in B")
	}
	a.create("/v1/teams", `{"name": "support"}`)
	agentA1 := a.create("/v1/agents", `{"name": "Al", "team": "support"}`)
	escA, _ := a.escalate("I need a human")

	tests := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"get B's escalation", "GET", "/v1/escalations/" + escB, agentA, "", 404, "not_found"},
		{"claim B's escalation", "POST", "/v1/escalations/" + escB + "/claim", agentA, `{"agent_id": "` + agentA1 + `"}`, 404, "not_found"},
		{"resolve B's escalation", "POST", "/v1/escalations/" + escB + "/resolve", agentA, `{"agent_id": "` + agentA1 + `", "reply": "x"}`, 404, "not_found"},
		{"claim with B's agent", "POST", "/v1/escalations/" + escA + "/claim", agentA, `{"agent_id": "` + agentB + `"}`, 400, "invalid"},
		{"resolve with B's agent", "POST", "/v1/escalations/" + escA + "/resolve", agentA, `{"agent_id": "` + agentB + `", "reply": "x"}`, 400, "invalid"},
		{"B's conversation", "GET", "/v1/conversations/" + convB, agentA, "", 404, "not_found"},
		{"patch B's agent", "PATCH", "/v1/agents/" + agentB, adminA, `{"active": false}`, 404, "not_found"},
		{"delete B's agent", "DELETE", "/v1/agents/" + agentB, adminA, "", 404, "not_found"},
		{"delete B's rule", "DELETE", "/v1/routing-rules/" + ruleB, adminA, "", 404, "not_found"},
		{"A's webhook", "GET", "/v1/webhook", adminA, "", 404, "not_found"},
		{"delete A's webhook", "DELETE", "/v1/webhook", adminA, "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := a.do(tt.method, tt.path, tt.key, tt.body)
			wantError(t, status, body, tt.status, tt.code)
		})
	}
	for path, key := range map[string]string{"/v1/escalations": "escalations", "/v1/agents": "agents", "/v1/routing-rules": "routing_rules", "/v1/teams": "teams"} {
		_, body := a.do("GET", path, adminA, "")
		for _, item := range list(body, key) {
			if id := item.(map[string]any)["id"]; id == escB || id == agentB || id == ruleB {
				t.Errorf("A lists B's %s %v", key, id)
			}
		}
	}
	if _, _, jsonl := a.raw("/v1/conversations/resolved", agentA); jsonl != "" {
		t.Errorf("A exports B's resolved conversations: %q", jsonl)
	}
	// Deleting A's team named like B's leaves B's alone.
	if status, body := a.do("DELETE", "/v1/agents/"+agentA1, adminA, ""); status != 204 {
		t.Fatalf("delete A's agent: %d %v", status, body)
	}
	if _, body := b.do("GET", "/v1/agents", b.keys[parley.RoleAdmin], ""); len(list(body, "agents")) != 1 {
		t.Fatalf("B's agents changed: %v", body)
	}
	if _, body := b.do("GET", "/v1/escalations/"+escB, b.keys[parley.RoleAgent], ""); body["status"] != "resolved" {
		t.Fatalf("B's escalation changed: %v", body)
	}
}
