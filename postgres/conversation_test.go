package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestRecordCustomerMessage(t *testing.T) {
	ctx := context.Background()
	ws := pgtest.Workspace(t)
	other := pgtest.Workspace(t)
	db, err := postgres.Open(ctx, pgtest.URL(t), 1) // one connection: the writes' and the check's
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	conv, first, err := db.RecordCustomerMessage(ctx, parley.CustomerMessage{WorkspaceID: ws.ID, Channel: "web",
		Customer: parley.Customer{ID: "c1", Name: "Ada"}, Language: "de", Text: "Wo ist mein Paket?", Meta: json.RawMessage(`{"language": "de"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !parley.IsID(conv.ID) || conv.Status != parley.StateBot || first.ID == 0 {
		t.Fatalf("started conversation %+v, message %+v", conv, first)
	}
	again, second, err := db.RecordCustomerMessage(ctx, parley.CustomerMessage{WorkspaceID: ws.ID, ConversationID: conv.ID, Text: "Hallo?"})
	if err != nil || again.ID != conv.ID || second.ID <= first.ID {
		t.Fatalf("appended %+v to %s: %v", second, again.ID, err)
	}
	stored, err := db.Conversation(ctx, ws.ID, conv.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Channel != "web" || stored.Language != "de" || stored.Customer.Name != "Ada" || len(stored.Messages) != 2 ||
		stored.Messages[0].Role != parley.RoleCustomer || stored.Messages[1].Text != "Hallo?" {
		t.Fatalf("stored conversation %+v", stored)
	}

	for name, id := range map[string]string{"unknown": "0b0e8b4e-0000-4000-8000-000000000000", "another workspace's": conv.ID} {
		_, _, err := db.RecordCustomerMessage(ctx, parley.CustomerMessage{WorkspaceID: other.ID, ConversationID: id, Text: "hi"})
		if parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("%s conversation: got %v, want not found", name, err)
		}
	}

	// The unflushed commit is the statement's alone.
	var mode string
	if err := db.Pool().QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "on" {
		t.Fatalf("after recording messages the connection has synchronous_commit = %s, want on", mode)
	}
}

// Any id but one of the workspace's conversations is not found, including
// what is not an id at all.
func TestConversationNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	other := pgtest.Workspace(t)
	conv, err := db.CreateConversation(ctx, other.ID, "chat", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{
		"unknown":             "0b0e8b4e-0000-4000-8000-000000000000",
		"another workspace's": conv.ID,
		"not an id":           "42",
		"empty":               "",
	} {
		if _, err := db.Conversation(ctx, ws.ID, id, 10); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("%s conversation: got %v, want not found", name, err)
		}
	}
}

// Deleting a workspace's conversations takes their messages and
// escalations with them, and leaves other workspaces alone.
func TestDeleteConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	other := pgtest.Workspace(t)
	gone, kept := escalate(t, db, ws, "", nil), escalate(t, db, other, "", nil)

	if err := db.DeleteConversations(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Conversation(ctx, ws.ID, gone.ConversationID, 10); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("deleted conversation: got %v, want not found", err)
	}
	if _, err := db.Escalation(ctx, ws.ID, gone.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("escalation of a deleted conversation: got %v, want not found", err)
	}
	var messages int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1`, ws.ID).Scan(&messages); err != nil || messages != 0 {
		t.Errorf("%d messages left (%v), want none", messages, err)
	}
	if c, err := db.Conversation(ctx, other.ID, kept.ConversationID, 10); err != nil || len(c.Messages) != 2 {
		t.Errorf("other workspace's conversation %+v (%v), want it with its 2 messages", c, err)
	}
	if _, err := db.Escalation(ctx, other.ID, kept.ID); err != nil {
		t.Errorf("other workspace's escalation: %v", err)
	}
}
