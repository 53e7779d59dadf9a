package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden files of webhook events in testdata/events")

var (
	uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePattern = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"`)
)

// normalizer replaces what differs from run to run in an event body: ids
// become <id-N>, numbered in order of first appearance over all bodies (so
// the same escalation keeps its number from event to event), and times of
// this run become "<now>" once checked to be RFC 3339. Times written by the
// test itself (in 2001) stay as they are.
type normalizer struct {
	t   *testing.T
	ids map[string]string
}

func (n *normalizer) body(raw []byte) []byte {
	out := uuidPattern.ReplaceAllFunc(raw, func(id []byte) []byte {
		if _, ok := n.ids[string(id)]; !ok {
			n.ids[string(id)] = fmt.Sprintf("<id-%d>", len(n.ids)+1)
		}
		return []byte(n.ids[string(id)])
	})
	out = timePattern.ReplaceAllFunc(out, func(q []byte) []byte {
		at, err := time.Parse(time.RFC3339Nano, string(q[1:len(q)-1]))
		if err != nil {
			n.t.Errorf("time %s is not RFC 3339: %v", q, err)
			return q
		}
		if time.Since(at).Abs() > time.Hour {
			return q
		}
		return []byte(`"<now>"`)
	})
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil { // keeps the order of keys as sent
		n.t.Fatalf("event body is not JSON: %v\n%s", err, raw)
	}
	pretty.WriteByte('\n')
	return pretty.Bytes()
}

// The JSON of each webhook event, as a receiver gets it, is frozen in
// testdata/events (rewrite with go test ./webhook -run TestEventWireFormat
// -update after a deliberate change, and document it in the README): an
// escalation with a full context packet, routed to an agent, is created,
// claimed and resolved, and the three requests' bodies must match their
// golden files byte for byte once ids and this run's times are replaced.
func TestEventWireFormat(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	rc, srv := newReceiver(t, 0)
	ws := pgtest.Workspace(t)
	if _, _, err := db.PutWebhook(ctx, ws.ID, srv.URL+"/hooks/parley", secret); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTeam(ctx, ws.ID, "support"); err != nil {
		t.Fatal(err)
	}
	active := true
	ada, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Name: "Ada", Team: "support", Active: &active})
	if err != nil {
		t.Fatal(err)
	}
	customer := parley.Customer{ID: "cust-42", Name: "Cleo", Email: "cleo@example.com", Language: "en", Properties: map[string]any{"plan": "gold"}}
	conv, err := db.CreateConversation(ctx, ws.ID, "widget", customer, "en")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	helpful := false
	esc, _, err := db.Escalate(ctx, parley.NewEscalation{
		WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonLowConfidence,
		Intent: "refunds", Tags: []string{"billing"}, CustomerNotice: "A person will reply soon.",
		Context: parley.EscalationContext{
			Question: "Can I get my money back?", Language: "en", Customer: customer, Channel: "widget",
			Transcript: []parley.Message{
				{ID: 101, Role: parley.RoleCustomer, Text: "Hello", Meta: json.RawMessage(`{}`), CreatedAt: at},
				{ID: 102, Role: parley.RoleBot, Text: "Hi! How can I help?", Helpful: &helpful, Meta: json.RawMessage(`{"confidence": 0.9}`), CreatedAt: at.Add(time.Second)},
				{ID: 103, Role: parley.RoleCustomer, Text: "Can I get my money back?", Meta: json.RawMessage(`{}`), CreatedAt: at.Add(2 * time.Second)},
			},
			Candidates: json.RawMessage(`[{"group": "intent:refunds", "answer": "Refunds take 5 days.", "intent": "refunds", "tags": ["billing"],
				"kind": "faq", "score": 0.42, "prior": 0.5, "similarity": 0.61, "hits": 3,
				"sources": [{"id": 7, "external_id": "refunds-1", "title": "Refunds", "url": "https://help.example.com/refunds", "score": 0.61}]}]`),
			Confidence: 0.42, Draft: "Refunds take 5 days.", Explain: "confidence 0.42 is below the threshold 0.5",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEscalation(ctx, ws.ID, esc.ID, ada.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: esc.ID, AgentID: ada.ID, Reply: "Refunded today."}); err != nil {
		t.Fatal(err)
	}
	types := []string{"escalation.created", "escalation.claimed", "escalation.resolved"}
	ids := make([]string, len(types))
	for i, typ := range types {
		if err := db.Pool().QueryRow(ctx, `SELECT event_id FROM outbox WHERE workspace_id = $1 AND event_type = $2`,
			ws.ID, typ).Scan(&ids[i]); err != nil {
			t.Fatalf("%s event: %v", typ, err)
		}
	}
	stop := run(t, webhook.DelivererOptions{})
	waitFor(t, "the three events delivered", func() bool { return rc.count(ids, processed) == len(ids) })
	stop()
	rc.check(ids, 1)

	n := &normalizer{t: t, ids: map[string]string{}}
	for i, typ := range types {
		_, body := rc.get(ids[i])
		checkTyped(t, typ, body)
		got := n.body(body)
		path := filepath.Join("testdata", "events", typ+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the body sent differs from %s:\n%s", typ, path, got)
		}
	}
}

// checkTyped checks that an event's data is exactly a
// parley.EscalationEventV1 of the current version: it decodes without
// unknown fields, and encodes back to the same JSON, times compared as
// instants (escalateSQL builds the created event's data in SQL, and
// PostgreSQL writes +00:00 where Go writes Z).
func checkTyped(t *testing.T, typ string, body []byte) {
	t.Helper()
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type != typ {
		t.Fatalf("%s: event %s (%v)", typ, body, err)
	}
	dec := json.NewDecoder(bytes.NewReader(ev.Data))
	dec.DisallowUnknownFields()
	var data parley.EscalationEventV1
	if err := dec.Decode(&data); err != nil {
		t.Fatalf("%s: data is not a parley.EscalationEventV1: %v\n%s", typ, err, ev.Data)
	}
	if data.Version != parley.EscalationEventVersion {
		t.Errorf("%s: version %d, want %d", typ, data.Version, parley.EscalationEventVersion)
	}
	again, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var sent, typed any
	if json.Unmarshal(inUTC(ev.Data), &sent) != nil || json.Unmarshal(inUTC(again), &typed) != nil || !reflect.DeepEqual(sent, typed) {
		t.Errorf("%s: data sent\n%s\nis not what parley.EscalationEventV1 encodes\n%s", typ, ev.Data, again)
	}
}

// inUTC rewrites the times in raw as Go writes them in UTC.
func inUTC(raw []byte) []byte {
	return timePattern.ReplaceAllFunc(raw, func(q []byte) []byte {
		at, err := time.Parse(time.RFC3339Nano, string(q[1:len(q)-1]))
		if err != nil {
			return q
		}
		return []byte(`"` + at.UTC().Format(time.RFC3339Nano) + `"`)
	})
}
