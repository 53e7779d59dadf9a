package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// escalate starts a conversation with one customer question and escalates
// it as the reply engine would, with a top candidate of the given intent
// and tags (none when intent is empty).
func escalate(t *testing.T, db *postgres.DB, ws parley.Workspace, intent string, tags []string) parley.Escalation {
	t.Helper()
	ctx := context.Background()
	conv, err := db.CreateConversation(ctx, ws.ID, "chat", parley.Customer{Name: "Cleo"}, "en")
	if err != nil {
		t.Fatal(err)
	}
	const question = "Can I get my money back for a broken pot?"
	if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv.ID, Role: parley.RoleCustomer, Text: question}); err != nil {
		t.Fatal(err)
	}
	cands := []byte("[]")
	if intent != "" {
		cands, _ = json.Marshal([]map[string]any{{"intent": intent, "tags": tags, "answer": "Refunds take 5 days.", "score": 0.4}})
	}
	e, _, err := db.Escalate(ctx, parley.NewEscalation{
		WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonLowConfidence,
		Intent: intent, Tags: tags, CustomerNotice: "A person will reply soon.",
		Context: parley.EscalationContext{
			Question: question, Language: "en", Customer: conv.Customer, Channel: "chat",
			Transcript: []parley.Message{{Role: parley.RoleCustomer, Text: question}},
			Candidates: cands, Confidence: 0.4, Draft: "Refunds take 5 days.", Explain: "low confidence",
		},
	})
	if err != nil {
		t.Fatalf("escalate: %v", err)
	}
	return e
}

// Two agents claiming one escalation at once: exactly one wins, the other
// gets a conflict naming the winner. Repeated to give the race a chance.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	agents := []parley.Agent{mustAgent(t, db, ws, "Ada", "support", true), mustAgent(t, db, ws, "Bo", "support", true)}
	wins := map[string]int{}
	for range 25 {
		e := escalate(t, db, ws, "", nil)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, 2)
		)
		for i, a := range agents {
			wg.Go(func() {
				<-start
				_, errs[i] = db.ClaimEscalation(ctx, ws.ID, e.ID, a.ID)
			})
		}
		close(start)
		wg.Wait()
		winner, loser := 0, 1
		if errs[0] != nil {
			winner, loser = 1, 0
		}
		if errs[winner] != nil || parley.ErrorCode(errs[loser]) != parley.EConflict {
			t.Fatalf("claims returned %v and %v, want one success and one conflict", errs[0], errs[1])
		}
		if !strings.Contains(errs[loser].Error(), agents[winner].Name) {
			t.Fatalf("conflict %q does not name the holder %s", errs[loser], agents[winner].Name)
		}
		got, err := db.Escalation(ctx, ws.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != parley.StatusClaimed || got.Assignee != agents[winner].ID || got.ClaimedAt == nil {
			t.Fatalf("after the race %+v, want claimed by %s", got, agents[winner].Name)
		}
		wins[agents[winner].Name]++
	}
	t.Logf("wins: %v", wins)
}

func TestClaimAndResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	if _, _, err := db.PutWebhook(ctx, ws.ID, "http://127.0.0.1:1/hook", ""); err != nil {
		t.Fatal(err)
	}
	mustTeam(t, db, ws, "support")
	ada := mustAgent(t, db, ws, "Ada", "support", true)
	bo := mustAgent(t, db, ws, "Bo", "support", true)
	off := mustAgent(t, db, ws, "Off", "support", false)
	other := pgtest.Workspace(t)
	mustTeam(t, db, other, "support")
	stranger := mustAgent(t, db, other, "Stranger", "support", true)

	e := escalate(t, db, ws, "refund", []string{"billing"})
	const missing = "00000000-0000-0000-0000-000000000000"
	claimErrors := []struct {
		name, id, agent, want string
	}{
		{"malformed escalation id", "nope", ada.ID, parley.ENotFound},
		{"unknown escalation", missing, ada.ID, parley.ENotFound},
		{"no agent", e.ID, "", parley.EInvalid},
		{"malformed agent id", e.ID, "ada", parley.EInvalid},
		{"agent of another workspace", e.ID, stranger.ID, parley.EInvalid},
		{"inactive agent", e.ID, off.ID, parley.EInvalid},
	}
	for _, tt := range claimErrors {
		if _, err := db.ClaimEscalation(ctx, ws.ID, tt.id, tt.agent); parley.ErrorCode(err) != tt.want {
			t.Errorf("claim, %s: %v, want %s", tt.name, err, tt.want)
		}
	}
	if _, err := db.ClaimEscalation(ctx, other.ID, e.ID, stranger.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("claim from another workspace: %v, want not_found", err)
	}

	claimed, err := db.ClaimEscalation(ctx, ws.ID, e.ID, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if claimed.Status != parley.StatusClaimed || claimed.AssigneeName != "Ada" {
		t.Fatalf("claimed %+v", claimed)
	}
	if again, err := db.ClaimEscalation(ctx, ws.ID, e.ID, ada.ID); err != nil || again.Status != parley.StatusClaimed {
		t.Fatalf("claiming again by the holder: %v, want success", err)
	}

	resolveErrors := []struct {
		name, agent, reply, want string
	}{
		{"reply too long", ada.ID, strings.Repeat("é", postgres.MaxReplyChars+1), parley.ETooLarge},
		{"another agent", bo.ID, "Mine now", parley.EConflict},
		{"agent of another workspace", stranger.ID, "Hi", parley.EInvalid},
	}
	for _, tt := range resolveErrors {
		if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e.ID, AgentID: tt.agent, Reply: tt.reply}); parley.ErrorCode(err) != tt.want {
			t.Errorf("resolve, %s: %v, want %s", tt.name, err, tt.want)
		}
	}

	reply := strings.Repeat("x", postgres.MaxReplyChars-20) + " Refund sent."
	resolved, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e.ID, AgentID: ada.ID, Reply: reply})
	if err != nil {
		t.Fatal(err)
	}
	if resolved.Status != parley.StatusResolved || resolved.Resolution != reply || resolved.ResolvedAt == nil || resolved.AssigneeName != "Ada" {
		t.Fatalf("resolved %+v", resolved)
	}
	if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e.ID, AgentID: ada.ID, Reply: "again"}); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("resolving twice: %v, want conflict", err)
	}
	if _, err := db.ClaimEscalation(ctx, ws.ID, e.ID, bo.ID); parley.ErrorCode(err) != parley.EConflict ||
		!strings.Contains(err.Error(), "resolved") {
		t.Fatalf("claiming a resolved escalation: %v, want conflict saying resolved", err)
	}

	conv, err := db.Conversation(ctx, ws.ID, e.ConversationID, 10)
	if err != nil {
		t.Fatal(err)
	}
	last := conv.Messages[len(conv.Messages)-1]
	if conv.Status != "resolved" || last.Role != parley.RoleHuman || last.Text != reply {
		t.Fatalf("conversation status %q, last message %s %.20q; want resolved with the agent's reply", conv.Status, last.Role, last.Text)
	}

	// An open escalation is claimed and resolved at once; every step left
	// an event in the outbox.
	e2 := escalate(t, db, ws, "", nil)
	r2, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e2.ID, AgentID: bo.ID, Reply: "Sorted."})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Status != parley.StatusResolved || r2.Assignee != bo.ID || r2.ClaimedAt == nil {
		t.Fatalf("open escalation resolved directly: %+v", r2)
	}
	if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: escalate(t, db, ws, "", nil).ID, AgentID: off.ID, Reply: "Hi"}); parley.ErrorCode(err) != parley.EInvalid {
		t.Fatalf("inactive agent resolving an open escalation: %v, want invalid", err)
	}
	w, err := db.Webhook(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	// created ×3, claimed ×1, resolved ×2.
	if w.Pending != 6 {
		t.Fatalf("%d pending events, want 6", w.Pending)
	}

	// What a resolution returns is what is stored, also when an agent
	// resolves an open escalation assigned to another.
	e3 := escalate(t, db, ws, "", nil)
	by := ada
	if e3.Assignee == ada.ID {
		by = bo
	}
	r3, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e3.ID, AgentID: by.ID, Reply: "Done."})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []parley.Escalation{resolved, r2, r3} {
		stored, err := db.Escalation(ctx, ws.ID, r.ID)
		if err == nil && len(stored.Messages) == 0 {
			t.Fatalf("escalation %s shows no messages since the handoff", r.ID)
		}
		stored.Messages = nil // the detail view's own addition
		if err != nil || !reflect.DeepEqual(stored, r) {
			t.Fatalf("resolution returned %+v, stored %+v (%v)", r, stored, err)
		}
	}
}

func TestListEscalations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	mustTeam(t, db, ws, "billing")
	if _, err := db.CreateRoutingRule(ctx, ws.ID, parley.NewRoutingRule{MatchIntent: "refund", Team: "billing"}); err != nil {
		t.Fatal(err)
	}
	ada := mustAgent(t, db, ws, "Ada", "support", true)
	var ids []string
	for i := range 5 {
		intent := ""
		if i%2 == 1 {
			intent = "refund"
		}
		ids = append(ids, escalate(t, db, ws, intent, nil).ID)
	}
	if _, err := db.ClaimEscalation(ctx, ws.ID, ids[0], ada.ID); err != nil {
		t.Fatal(err)
	}

	// Page through everything, two at a time, oldest first.
	var got []string
	after := ""
	for page := 0; ; page++ {
		list, next, err := db.ListEscalations(ctx, ws.ID, parley.EscalationFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if e.Context.Transcript != nil || e.Context.Question == "" {
				t.Fatalf("list item context %+v, want the question without the transcript", e.Context)
			}
			got = append(got, e.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		after = next
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged ids %v, want %v", got, ids)
	}

	filters := []struct {
		f    parley.EscalationFilter
		want int
	}{
		{parley.EscalationFilter{Status: "open", Limit: 10}, 4},
		{parley.EscalationFilter{Status: "claimed", Limit: 10}, 1},
		{parley.EscalationFilter{Status: "resolved", Limit: 10}, 0},
		{parley.EscalationFilter{Team: "billing", Limit: 10}, 2},
		{parley.EscalationFilter{Team: "support", Status: "open", Limit: 10}, 2},
	}
	for _, tt := range filters {
		list, _, err := db.ListEscalations(ctx, ws.ID, tt.f)
		if err != nil || len(list) != tt.want {
			t.Errorf("filter %+v: %d escalations (%v), want %d", tt.f, len(list), err, tt.want)
		}
	}
	for _, bad := range []parley.EscalationFilter{{Status: "closed", Limit: 1}, {Team: "nope", Limit: 1}, {After: "garbage", Limit: 1}} {
		if _, _, err := db.ListEscalations(ctx, ws.ID, bad); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("filter %+v: %v, want invalid", bad, err)
		}
	}
	// Another workspace sees none of them.
	list, _, err := db.ListEscalations(ctx, pgtest.Workspace(t).ID, parley.EscalationFilter{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Fatalf("other workspace lists %d escalations (%v)", len(list), err)
	}
}

func TestResolvedConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	ada := mustAgent(t, db, ws, "Ada", "support", true)
	start := time.Now().Add(-time.Minute)

	// The knowledge the agent names: a refund entry tagged billing, money.
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	err = db.Ingest(ctx, parley.IngestTarget{WorkspaceID: ws.ID, KBID: kb.ID, Model: testModel, Dims: 4, Chunks: 1}, func(w parley.SourceWriter) error {
		return w.Write(ctx, []parley.SourceChunks{{
			Source: parley.Source{Kind: "faq", ExternalID: "refunds", Intent: "refund", Tags: []string{"billing", "money"}, ContentHash: "r"},
			Chunks: []parley.Chunk{{Text: "How do refunds work?", Answer: "Refunds take 5 days.", Embedding: []float32{1, 0, 0, 0}}},
		}})
	})
	if err != nil {
		t.Fatal(err)
	}

	// Both resolved escalations had a weak best candidate with other
	// labels: the export must never carry them (issue #17).
	e1 := escalate(t, db, ws, "refund_dispute", []string{"billing", "legal"})
	escalate(t, db, ws, "", nil) // stays open: not exported
	e3 := escalate(t, db, ws, "refund_dispute", []string{"billing", "legal"})
	named := map[string]*parley.AnsweredBy{e1.ID: {Group: "intent:refund"}, e3.ID: nil}
	for _, e := range []parley.Escalation{e1, e3} {
		if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e.ID, AgentID: ada.ID, Reply: "We refunded you.", AnsweredBy: named[e.ID]}); err != nil {
			t.Fatal(err)
		}
	}
	convs, next, err := db.ResolvedConversations(ctx, ws.ID, start, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || next == "" {
		t.Fatalf("first page: %d conversations, next %q; want 1 and a cursor", len(convs), next)
	}
	c := convs[0]
	if c.ID != e1.ConversationID || c.Intent != "refund" || strings.Join(c.Tags, ",") != "billing,money" ||
		c.Resolution != "We refunded you." || c.Language != "en" {
		t.Fatalf("first conversation %+v", c)
	}
	roles := []string{}
	for _, m := range c.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "customer,bot,agent" {
		t.Fatalf("roles %v, want customer,bot,agent", roles)
	}
	convs, next, err = db.ResolvedConversations(ctx, ws.ID, start, next, 1)
	if err != nil || len(convs) != 1 || convs[0].ID != e3.ConversationID || convs[0].Intent != "" || len(convs[0].Tags) != 0 || next != "" {
		t.Fatalf("second page: %+v, next %q, %v; want the last conversation, no intent (the agent named no knowledge), no cursor", convs, next, err)
	}
	if convs, _, err = db.ResolvedConversations(ctx, ws.ID, time.Now().Add(time.Hour), "", 10); err != nil || len(convs) != 0 {
		t.Fatalf("since the future: %d conversations (%v)", len(convs), err)
	}

	// Escalated and resolved again, a conversation is exported once, with
	// its latest resolution; escalated again and not yet resolved, not at all.
	again := func(e parley.Escalation) parley.Escalation {
		t.Helper()
		next, _, err := db.Escalate(ctx, parley.NewEscalation{
			WorkspaceID: ws.ID, ConversationID: e.ConversationID, Reason: parley.ReasonHumanRequested,
			CustomerNotice: "A person will reply soon.", Context: parley.EscalationContext{Question: "And now?", Candidates: []byte("[]")},
		})
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: again(e1).ID, AgentID: ada.ID, Reply: "Second answer."}); err != nil {
		t.Fatal(err)
	}
	again(e3)
	convs, next, err = db.ResolvedConversations(ctx, ws.ID, start, "", 10)
	if err != nil || len(convs) != 1 || next != "" {
		t.Fatalf("after escalating again: %+v, next %q (%v); want one conversation, no cursor", convs, next, err)
	}
	if c := convs[0]; c.ID != e1.ConversationID || c.Resolution != "Second answer." || c.Intent != "" || len(c.Messages) != 5 {
		t.Fatalf("conversation resolved twice: %+v, want its second resolution and 5 messages", c)
	}
}
