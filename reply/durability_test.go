package reply_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// writeOrder records the engine's writes as they begin and end. The
// customer's message is slow to store, so an engine that wrote its
// outcome without waiting for it would be caught.
type writeOrder struct {
	*postgres.DB
	mu     sync.Mutex
	events []string
}

func (w *writeOrder) note(e string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, e)
}

func (w *writeOrder) RecordCustomerMessage(ctx context.Context, m parley.CustomerMessage) (parley.Conversation, parley.Message, error) {
	w.note("customer begins")
	time.Sleep(200 * time.Millisecond)
	c, msg, err := w.DB.RecordCustomerMessage(ctx, m)
	w.note("customer committed")
	return c, msg, err
}

func (w *writeOrder) AddMessage(ctx context.Context, m parley.NewMessage) (parley.Message, error) {
	w.note("outcome begins")
	msg, err := w.DB.AddMessage(ctx, m)
	w.note("outcome committed")
	return msg, err
}

func (w *writeOrder) Escalate(ctx context.Context, e parley.NewEscalation) (parley.Escalation, parley.Message, error) {
	w.note("outcome begins")
	esc, msg, err := w.DB.Escalate(ctx, e)
	w.note("outcome committed")
	return esc, msg, err
}

// The durability rule of Engine.Answer: the customer's message is stored
// by RecordCustomerMessage, whose commit does not wait for the disk
// (postgres), so the engine must write the answer or the escalation, whose
// commit does wait and flushes the customer's with it, only after that
// commit, and return only after its own. A change of this order fails here.
func TestCustomerMessageIsCoveredByTheNextWrite(t *testing.T) {
	t.Parallel()
	_, db, ws := loadSample(t, nil)
	want := []string{"customer begins", "customer committed", "outcome begins", "outcome committed"}
	for _, tt := range []struct {
		name, text, status string
		existing           bool // a message in a conversation already started, not a first one
	}{
		{"answered", "How long does delivery to Germany take?", reply.StatusAnswered, false},
		{"escalated", "I want to talk to a human please", reply.StatusEscalated, false},
		{"answered in a conversation", "How long does delivery to Germany take?", reply.StatusAnswered, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := reply.Request{Workspace: ws, Text: tt.text}
			if tt.existing {
				conv, err := db.CreateConversation(context.Background(), ws.ID, "chat", parley.Customer{}, "en")
				if err != nil {
					t.Fatal(err)
				}
				req.ConversationID = conv.ID
			}
			store := &writeOrder{DB: db}
			engine := reply.New(store, retrieval.NewLocal(), reply.Options{Classifiers: db})
			res, err := engine.Answer(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			store.mu.Lock()
			defer store.mu.Unlock()
			if res.Status != tt.status || !slices.Equal(store.events, want) {
				t.Fatalf("status %s, writes %q; want %s with writes %q", res.Status, store.events, tt.status, want)
			}
		})
	}
}
