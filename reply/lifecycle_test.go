package reply_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/reply"
)

// After a handoff the bot stays silent: further messages are stored and
// queued for the agent, with no new escalation and no bot message; after
// the agent resolves, the customer is with the bot again.
func TestBotSilentWhileHandedOff(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, nil)
	ctx := context.Background()
	first, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: "I want to talk to a real person please"})
	if err != nil || first.Status != reply.StatusEscalated || first.State != parley.StateWaiting || first.MessageID == 0 {
		t.Fatalf("asking for a person: %+v, %v", first, err)
	}
	conv := first.ConversationID
	for _, text := range []string{"How long does delivery to Germany take?", "That did not help", "let me talk to a human"} {
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: conv, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != reply.StatusQueued || res.State != parley.StateWaiting || res.Answer != nil || res.Escalation != nil || res.MessageID == 0 {
			t.Fatalf("%q while waiting: %+v, want queued and silent", text, res)
		}
	}
	c, err := db.Conversation(ctx, ws.ID, conv, 100)
	if err != nil {
		t.Fatal(err)
	}
	bots := 0
	for _, m := range c.Messages {
		if m.Role == parley.RoleBot {
			bots++
		}
	}
	if len(c.Messages) != 5 || bots != 1 {
		t.Fatalf("transcript has %d messages, %d from the bot; want the 4 customer messages and the handoff notice", len(c.Messages), bots)
	}

	agent := newAgent(t, db, ws)
	if _, err := db.PostAgentMessage(ctx, ws.ID, parley.AgentMessage{ConversationID: conv, AgentID: agent, Text: "Internal: VIP", Internal: true}); err != nil {
		t.Fatal(err)
	}
	res, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: conv, Text: "hello?"})
	if err != nil || res.Status != reply.StatusQueued || res.State != parley.StateAgent {
		t.Fatalf("message while an agent holds it: %+v, %v", res, err)
	}
	if _, err := db.PostAgentMessage(ctx, ws.ID, parley.AgentMessage{ConversationID: conv, AgentID: agent, Text: "Germany takes 3 days.", Resolve: true}); err != nil {
		t.Fatal(err)
	}
	res, err = engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: conv, Text: "How long does delivery to Germany take?"})
	if err != nil || res.Status != reply.StatusAnswered || res.State != parley.StateBot {
		t.Fatalf("after resolution: %+v (%v), want the bot answering again", res, err)
	}
}

// Several messages of one conversation that all ask for a person, at once:
// one escalation, the others queued in it.
func TestConcurrentHandoffsMakeOneEscalation(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, nil)
	ctx := context.Background()
	start, err := db.CreateConversation(ctx, ws.ID, "web", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	var (
		wg      sync.WaitGroup
		results = make([]reply.Result, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: start.ID, Text: "I want to talk to a human agent now"})
		})
	}
	wg.Wait()
	escalated := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.Status {
		case reply.StatusEscalated:
			escalated++
		case reply.StatusQueued:
		default:
			t.Fatalf("result %+v, want escalated or queued", r)
		}
	}
	list, _, err := db.ListEscalations(ctx, ws.ID, parley.EscalationFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if escalated != 1 || len(list) != 1 {
		t.Fatalf("%d results escalated, %d escalations stored; want one", escalated, len(list))
	}
}

// A visitor's request never reaches another visitor's conversation.
func TestVisitorOwnsConversation(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, nil)
	ctx := context.Background()
	mine, err := db.CreateConversation(ctx, ws.ID, "web", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: mine.ID, VisitorID: "v_someone", Text: "hi there, where is my parcel"})
	if parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("a visitor writing to a conversation not theirs: %v, want not found", err)
	}
}

// newAgent creates an active agent in the workspace's default team.
func newAgent(t *testing.T, db *postgres.DB, ws parley.Workspace) string {
	t.Helper()
	ctx := context.Background()
	if _, err := db.CreateTeam(ctx, ws.ID, "support"); err != nil && parley.ErrorCode(err) != parley.EConflict {
		t.Fatal(err)
	}
	a, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Name: "Ada", Team: "support"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
