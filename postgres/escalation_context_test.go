package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// oldContext is a context packet in the shape rows had before the stored
// context carried a version: the API's JSON, as the code wrote it then.
const oldContext = `{"question": "Where is my parcel?", "language": "en",
	"customer": {"id": "c-7", "name": "Cleo", "email": "cleo@example.com", "properties": {"plan": "gold"}},
	"channel": "widget",
	"transcript": [
		{"id": 7, "role": "customer", "text": "Hello", "meta": {}, "created_at": "2026-12-01T10:00:00Z"},
		{"id": 8, "role": "bot", "text": "Hi! How can I help?", "helpful": true, "meta": {"confidence": 0.9}, "created_at": "2026-12-01T10:00:01Z"},
		{"id": 9, "role": "customer", "text": "Where is my parcel?", "meta": {}, "created_at": "2026-12-01T10:00:05Z"}
	],
	"candidates": [{"group": "intent:shipping", "intent": "shipping", "tags": ["orders"], "answer": "3-5 days.", "kind": "faq",
		"score": 0.31, "similarity": 0.62, "hits": 4, "sources": [{"id": 12, "external_id": "shipping-1", "title": "Shipping", "score": 0.62}]}],
	"confidence": 0.31, "draft": "3-5 days.", "explain": "confidence 0.31 is below the threshold 0.5", "summary": "Asks where a parcel is."}`

// setContext overwrites an escalation's stored context.
func setContext(t *testing.T, db *postgres.DB, id, raw string) {
	t.Helper()
	if _, err := db.Pool().Exec(context.Background(), `UPDATE escalations SET context = $2 WHERE id = $1`, id, raw); err != nil {
		t.Fatal(err)
	}
}

// asJSON is v encoded and decoded again, to compare JSON documents.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	raw, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	var out any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Rows written before the stored context had a version still read: the
// detail view shows the packet as the API showed it then, and the list
// leaves out the transcript and candidates. New rows store version 1.
func TestEscalationContextOldRowsRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	e := escalate(t, db, ws, "refunds", []string{"billing"})
	var version string
	if err := db.Pool().QueryRow(ctx, `SELECT context->>'version' FROM escalations WHERE id = $1`, e.ID).Scan(&version); err != nil || version != "1" {
		t.Fatalf("stored context version %q (%v), want 1", version, err)
	}
	fresh, err := db.Escalation(ctx, ws.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(asJSON(t, fresh.Context), asJSON(t, e.Context)) {
		t.Errorf("version 1 read back as\n%+v\nwant\n%+v", fresh.Context, e.Context)
	}

	setContext(t, db, e.ID, oldContext)
	got, err := db.Escalation(ctx, ws.ID, e.ID)
	if err != nil {
		t.Fatalf("read a row of the old shape: %v", err)
	}
	if !reflect.DeepEqual(asJSON(t, got.Context), asJSON(t, oldContext)) {
		raw, _ := json.Marshal(got.Context)
		t.Errorf("old row reads as\n%s\nwant\n%s", raw, oldContext)
	}
	if len(got.Context.Transcript) != 3 || got.Context.Transcript[1].Helpful == nil || got.Context.Customer.Properties["plan"] != "gold" {
		t.Errorf("old row's transcript or customer: %+v", got.Context)
	}

	list, _, err := db.ListEscalations(ctx, ws.ID, parley.EscalationFilter{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	c := list[0].Context
	if c.Question != "Where is my parcel?" || c.Customer.Email != "cleo@example.com" || c.Summary == "" || c.Transcript != nil || string(c.Candidates) != "" {
		t.Errorf("old row in the list: %+v, want the packet without transcript and candidates", c)
	}
}

// A row written by a newer binary, in a version this one does not know, is
// an error saying so, not a packet read wrong.
func TestEscalationContextNewerVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	e := escalate(t, db, ws, "", nil)
	setContext(t, db, e.ID, `{"version": 2, "question": "?"}`)
	if _, err := db.Escalation(ctx, ws.ID, e.ID); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("read a version 2 context: %v, want an error naming the version", err)
	}
}
