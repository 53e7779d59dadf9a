package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// queueEvent is the data of a queue stream's "escalation" event.
type queueEvent struct {
	Change     string            `json:"change"`
	Escalation parley.Escalation `json:"escalation"`
}

// queueStream opens the agents' queue stream (path with its query).
func (e *env) queueStream(path string) *eventStream {
	e.t.Helper()
	return openEvents(e.t, e.srv.URL+path, http.Header{"Authorization": {"Bearer " + e.keys[parley.RoleAgent]}})
}

// nextChange waits for the stream's next "escalation" event, failing on
// any other event but pings.
func nextChange(t *testing.T, s *eventStream) queueEvent {
	t.Helper()
	evs := s.until(t, func(ev event) bool { return true })
	ev := evs[0]
	if ev.kind != "escalation" {
		t.Fatalf("event %s %s, want an escalation change", ev.kind, ev.data)
	}
	var qe queueEvent
	if err := json.Unmarshal([]byte(ev.data), &qe); err != nil {
		t.Fatal(err)
	}
	return qe
}

// snapshot waits for the stream's "queue" event and returns its
// escalations.
func snapshot(t *testing.T, s *eventStream) []parley.Escalation {
	t.Helper()
	evs := s.until(t, func(ev event) bool { return ev.kind == "queue" })
	var q struct {
		Escalations []parley.Escalation `json:"escalations"`
	}
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &q); err != nil {
		t.Fatal(err)
	}
	return q.Escalations
}

// The agents' queue stream is served by one replica while the customer
// and the agent act through another: every change reaches it through
// PostgreSQL, in order, as it happens; a team's stream sees only its
// team's escalations, and another workspace's never show.
func TestQueueStreamAcrossReplicas(t *testing.T) {
	t.Parallel()
	writer := newEnv(t)
	agentKey := writer.keys[parley.RoleAgent]
	writer.create("/v1/teams", `{"name": "support"}`)
	writer.create("/v1/teams", `{"name": "billing"}`)
	ada := writer.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	reader, _ := replica(t, writer)

	all := reader.queueStream("/v1/escalations/events")
	defer all.close()
	billing := reader.queueStream("/v1/escalations/events?team=billing")
	defer billing.close()
	if q := snapshot(t, all); len(q) != 0 {
		t.Fatalf("first queue %v, want empty", q)
	}
	snapshot(t, billing)

	// Small talk and another workspace's handoff are nothing to this queue.
	other := newEnv(t)
	other.escalate("I want to talk to a human")
	status, body := writer.do("POST", "/v1/answer", writer.keys[parley.RoleWidget], `{"message": {"text": "Hello!"}}`)
	if status != 200 || body["status"] != "small_talk" {
		t.Fatalf("small talk: %d %v", status, body)
	}
	chat := body["conversation_id"].(string)

	start := time.Now()
	esc, conv := writer.escalate("I want to talk to a human")
	got := nextChange(t, all)
	if got.Change != "created" || got.Escalation.ID != esc || got.Escalation.Status != "open" || got.Escalation.Team != "support" || got.Escalation.AssigneeName != "Ada" ||
		got.Escalation.Context.Question == "" || got.Escalation.Context.Transcript != nil {
		t.Fatalf("first change %+v, want escalation %s created, open, in support for Ada, listed without transcript", got, esc)
	}
	t.Logf("the new escalation reached the other replica's stream in %v", time.Since(start).Round(time.Millisecond))

	steps := []struct {
		name, path, key, body string
		changes               []string
		status                string // after the step
	}{
		{"the customer writes again", "/v1/answer", writer.keys[parley.RoleWidget], `{"conversation_id": "` + conv + `", "message": {"text": "hello? anyone there?"}}`, []string{"message"}, "open"},
		{"the agent's first reply claims it", "/v1/conversations/" + conv + "/messages", agentKey, `{"agent_id": "` + ada + `", "text": "Hi, Ada here."}`, []string{"claimed", "message"}, "claimed"},
		{"a second reply", "/v1/conversations/" + conv + "/messages", agentKey, `{"agent_id": "` + ada + `", "text": "Checking your order."}`, []string{"message"}, "claimed"},
		{"an internal note", "/v1/conversations/" + conv + "/messages", agentKey, `{"agent_id": "` + ada + `", "text": "refund ok", "internal": true}`, []string{"message"}, "claimed"},
		{"the resolution with a final reply", "/v1/escalations/" + esc + "/resolve", agentKey, `{"agent_id": "` + ada + `", "reply": "Refunded."}`, []string{"message", "resolved"}, "resolved"},
	}
	for _, st := range steps {
		if status, body := writer.do("POST", st.path, st.key, st.body); status != 200 {
			t.Fatalf("%s: %d %v", st.name, status, body)
		}
		// Each event carries the escalation as it is when the event is
		// sent: by then, the whole step is committed.
		for _, change := range st.changes {
			got := nextChange(t, all)
			if got.Change != change || got.Escalation.ID != esc || got.Escalation.Status != st.status {
				t.Fatalf("%s: change %q, escalation %s %s; want %q, %s %s", st.name, got.Change, got.Escalation.ID, got.Escalation.Status, change, esc, st.status)
			}
		}
	}

	// A handoff asked for with the widget's button.
	if status, body := writer.do("POST", "/v1/conversations/"+chat+"/handoff", writer.keys[parley.RoleWidget], ""); status != 200 {
		t.Fatalf("handoff: %d %v", status, body)
	}
	if got := nextChange(t, all); got.Change != "created" || got.Escalation.ConversationID != chat || got.Escalation.Reason != "human_requested" {
		t.Fatalf("after the handoff button: %+v, want its escalation created", got)
	}

	// The billing stream heard none of that: its first change is its
	// team's escalation.
	if status, body := writer.do("PUT", "/v1/workspace/settings", writer.keys[parley.RoleAdmin], `{"default_team": "billing"}`); status != 200 {
		t.Fatalf("settings: %d %v", status, body)
	}
	bill, _ := writer.escalate("I want to talk to a person about my invoice")
	if got := nextChange(t, billing); got.Change != "created" || got.Escalation.ID != bill || got.Escalation.Team != "billing" {
		t.Fatalf("billing stream: %+v, want only escalation %s created", got, bill)
	}
	nextChange(t, all)

	// A stream opened now starts with the unresolved queue.
	late := reader.queueStream("/v1/escalations/events")
	defer late.close()
	if q := snapshot(t, late); len(q) != 2 || q[0].ConversationID != chat || q[1].ID != bill {
		t.Fatalf("queue %v, want the button's handoff and the billing escalation, oldest first", q)
	}
	status, body = writer.do("GET", "/v1/escalations?status=unresolved&team=billing", agentKey, "")
	if list := list(body, "escalations"); status != 200 || len(list) != 1 || list[0].(map[string]any)["id"] != bill {
		t.Fatalf("unresolved list: %d %v", status, body)
	}
}

func TestQueueStreamRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name, path, key string
		status          int
		code            string
	}{
		{"no key", "/v1/escalations/events", "", 401, "unauthorized"},
		{"widget key", "/v1/escalations/events", e.keys[parley.RoleWidget], 403, "forbidden"},
		{"unknown team", "/v1/escalations/events?team=nobody", e.keys[parley.RoleAgent], 400, "invalid"},
		{"unknown status", "/v1/escalations?status=pending", e.keys[parley.RoleAgent], 400, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do("GET", tt.path, tt.key, "")
			wantError(t, status, body, tt.status, tt.code)
		})
	}
}

// A queue stream ends after QueueStreamMax, so a client reconnects and is
// authenticated again: a key revoked meanwhile gets no more of the queue.
func TestQueueStreamEndsForAuthenticationAgain(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *api.Options) { o.QueueStreamMax = 500 * time.Millisecond })
	db := pgtest.DB(t)
	k, secret, err := db.CreateKey(context.Background(), e.ws.ID, "agent soon revoked", parley.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	s := openEvents(t, e.srv.URL+"/v1/escalations/events", http.Header{"Authorization": {"Bearer " + secret}})
	defer s.close()
	snapshot(t, s)
	if _, err := db.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case _, open := <-s.events:
		if open {
			t.Fatal("an event after the snapshot, want the stream to end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream is still open 5 s after QueueStreamMax")
	}
	status, body := e.do("GET", "/v1/escalations/events", secret, "")
	wantError(t, status, body, 401, "unauthorized")
}
