package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// state reads a conversation's state.
func state(t *testing.T, ws parley.Workspace, id string) string {
	t.Helper()
	c, err := pgtest.DB(t).Conversation(context.Background(), ws.ID, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

// A conversation goes bot → waiting → agent → resolved and back to the bot
// when the customer writes again; agents reply any number of times, notes
// stay internal, and only the holder may write.
func TestConversationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	ada := mustAgent(t, db, ws, "Ada", "support", true)
	bo := mustAgent(t, db, ws, "Bo", "support", true)

	e := escalate(t, db, ws, "", nil)
	conv := e.ConversationID
	if s := state(t, ws, conv); s != parley.StateWaiting {
		t.Fatalf("after the handoff: %s, want waiting", s)
	}
	if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv, Role: parley.RoleCustomer, Text: "Are you there?"}); err != nil {
		t.Fatal(err)
	}
	if s := state(t, ws, conv); s != parley.StateWaiting {
		t.Fatalf("a customer message while waiting made it %s", s)
	}

	post := func(m parley.AgentMessage) (parley.AgentPost, error) {
		m.ConversationID = conv
		return db.PostAgentMessage(ctx, ws.ID, m)
	}
	first, err := post(parley.AgentMessage{AgentID: ada.ID, Text: "Hi, I'm looking into it."})
	if err != nil {
		t.Fatal(err)
	}
	if first.State != parley.StateAgent || first.Escalation.Status != parley.StatusClaimed || first.Escalation.Assignee != ada.ID || first.Message == nil {
		t.Fatalf("first reply: %+v, want the escalation claimed by Ada and the conversation with her", first)
	}
	if s := state(t, ws, conv); s != parley.StateAgent {
		t.Fatalf("after the agent's reply: %s, want agent", s)
	}
	if _, err := post(parley.AgentMessage{AgentID: ada.ID, Text: "Customer is a reseller, check the contract.", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := post(parley.AgentMessage{AgentID: ada.ID, Text: "A new pot is on its way."}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		m    parley.AgentMessage
		want string
	}{
		{"another agent", parley.AgentMessage{AgentID: bo.ID, Text: "Mine?"}, parley.EConflict},
		{"empty text", parley.AgentMessage{AgentID: ada.ID, Text: "  "}, parley.EInvalid},
		{"no agent", parley.AgentMessage{Text: "hello"}, parley.EInvalid},
	} {
		if _, err := post(tt.m); parley.ErrorCode(err) != tt.want {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}

	// Resolving without a final reply: the last reply is the resolution,
	// never the note.
	done, err := post(parley.AgentMessage{AgentID: ada.ID, Resolve: true})
	if err != nil {
		t.Fatal(err)
	}
	if done.State != parley.StateResolved || done.Message != nil || done.Escalation.Resolution != "A new pot is on its way." {
		t.Fatalf("resolve without reply: %+v", done)
	}
	if s := state(t, ws, conv); s != parley.StateResolved {
		t.Fatalf("after resolving: %s", s)
	}
	stored, err := db.Escalation(ctx, ws.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var notes, replies, customer int
	for _, m := range stored.Messages {
		switch {
		case m.Internal:
			notes++
		case m.Role == parley.RoleHuman:
			replies++
		case m.Role == parley.RoleCustomer:
			customer++
		}
	}
	if notes != 1 || replies != 2 || customer != 1 {
		t.Fatalf("escalation shows %d notes, %d replies, %d customer messages since the handoff; want 1, 2, 1", notes, replies, customer)
	}

	// A resolved conversation takes no agent message, not even from its
	// last holder.
	for _, agent := range []string{ada.ID, bo.ID} {
		if _, err := post(parley.AgentMessage{AgentID: agent, Text: "One more thing"}); parley.ErrorCode(err) != parley.EConflict {
			t.Errorf("message to a resolved conversation: %v, want a conflict", err)
		}
	}
	if _, err := db.PostAgentMessage(ctx, ws.ID, parley.AgentMessage{ConversationID: "00000000-0000-4000-8000-000000000000", AgentID: ada.ID, Text: "x"}); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("unknown conversation: %v, want not found", err)
	}
	other := pgtest.Workspace(t)
	if _, err := db.PostAgentMessage(ctx, other.ID, parley.AgentMessage{ConversationID: conv, AgentID: ada.ID, Text: "x"}); parley.ErrorCode(err) == "" || parley.ErrorCode(err) == parley.EInternal {
		t.Errorf("another workspace's conversation: %v, want a clear refusal", err)
	}

	// The customer writes again: back to the bot, and a new handoff is
	// possible.
	if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv, Role: parley.RoleCustomer, Text: "Thanks! Another question."}); err != nil {
		t.Fatal(err)
	}
	if s := state(t, ws, conv); s != parley.StateBot {
		t.Fatalf("customer writing after resolution: %s, want bot", s)
	}
	if _, _, err := db.Escalate(ctx, parley.NewEscalation{WorkspaceID: ws.ID, ConversationID: conv, Reason: parley.ReasonHumanRequested,
		CustomerNotice: "A person will reply.", Context: parley.EscalationContext{Question: "again", Candidates: []byte("[]")}}); err != nil {
		t.Fatalf("handoff after reopening: %v", err)
	}
	// Resolving with a final reply, through the escalation.
	if r, err := db.PostAgentMessage(ctx, ws.ID, parley.AgentMessage{ConversationID: conv, AgentID: bo.ID, Text: "Done, bye!", Resolve: true}); err != nil || r.Escalation.Resolution != "Done, bye!" || r.Message == nil {
		t.Fatalf("resolve with a final reply: %+v, %v", r, err)
	}
}

// Messages arriving at once to a conversation with the bot may all want a
// handoff: the database lets exactly one escalation through.
func TestOneOpenEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	conv, err := db.CreateConversation(ctx, ws.ID, "chat", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = db.Escalate(ctx, parley.NewEscalation{WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonHumanRequested,
				CustomerNotice: "A person will reply.", Context: parley.EscalationContext{Question: "human", Candidates: []byte("[]")}})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, parley.ErrOpenEscalation):
			t.Fatalf("escalate: %v, want success or ErrOpenEscalation", err)
		}
	}
	list, _, err := db.ListEscalations(ctx, ws.ID, parley.EscalationFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Conversation(ctx, ws.ID, conv.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(list) != 1 || len(c.Messages) != 1 {
		t.Fatalf("%d escalations succeeded, %d stored, %d notices; want exactly one of each", ok, len(list), len(c.Messages))
	}
}
