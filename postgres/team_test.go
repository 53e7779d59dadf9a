package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// mustTeam creates a team or fails the test.
func mustTeam(t *testing.T, db *postgres.DB, ws parley.Workspace, name string) parley.Team {
	t.Helper()
	team, err := db.CreateTeam(context.Background(), ws.ID, name)
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return team
}

// mustAgent creates an agent or fails the test.
func mustAgent(t *testing.T, db *postgres.DB, ws parley.Workspace, name, team string, active bool) parley.Agent {
	t.Helper()
	a, err := db.CreateAgent(context.Background(), ws.ID, parley.NewAgent{Name: name, Team: team, Active: &active})
	if err != nil {
		t.Fatalf("create agent %s: %v", name, err)
	}
	return a
}

// Escalations alternate between the team's active agents; inactive ones
// are skipped.
func TestRoundRobinAssignment(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	a := mustAgent(t, db, ws, "Ada", "support", true)
	b := mustAgent(t, db, ws, "Bo", "support", true)
	off := mustAgent(t, db, ws, "Off", "support", false)

	var got []string
	for range 6 {
		e := escalate(t, db, ws, "", nil)
		if e.Team != "support" {
			t.Fatalf("routed to %q, want support", e.Team)
		}
		got = append(got, e.Assignee)
	}
	for i, id := range got {
		if id == off.ID {
			t.Fatalf("escalation %d assigned to inactive agent", i)
		}
		if id != a.ID && id != b.ID {
			t.Fatalf("escalation %d assigned to %q, want one of the team's agents", i, id)
		}
		if i > 0 && id == got[i-1] {
			t.Fatalf("assignments %v do not alternate", got)
		}
	}

	// Reactivated, the agent that never had one is next.
	active := true
	if _, err := db.UpdateAgent(context.Background(), ws.ID, off.ID, parley.AgentPatch{Active: &active}); err != nil {
		t.Fatal(err)
	}
	if e := escalate(t, db, ws, "", nil); e.Assignee != off.ID {
		t.Fatalf("after reactivation assigned to %s, want %s", e.AssigneeName, off.Name)
	}
}

// A team without active agents still receives the escalation, unassigned.
func TestRoutingWithoutAgents(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	e := escalate(t, db, ws, "", nil)
	if e.Team != "support" || e.Assignee != "" {
		t.Fatalf("team %q assignee %q, want the default team (created on use) and nobody", e.Team, e.Assignee)
	}
}

// The first escalations of a workspace create its default team, the one
// its settings name, once however many arrive at the same time.
func TestFirstEscalationsCreateTheDefaultTeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	settings := ws.Settings
	settings.DefaultTeam = "front-desk"
	if _, err := db.UpdateSettings(ctx, ws.ID, settings); err != nil {
		t.Fatal(err)
	}
	const n = 4
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		got   = make([]parley.Escalation, n)
		errs  = make([]error, n)
	)
	for i := range n {
		conv, err := db.CreateConversation(ctx, ws.ID, "chat", parley.Customer{}, "en")
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			<-start
			got[i], _, errs[i] = db.Escalate(ctx, parley.NewEscalation{
				WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonHumanRequested,
				CustomerNotice: "Someone will reply.", Context: parley.EscalationContext{Question: "a person please"},
			})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i].Team != "front-desk" {
			t.Errorf("escalation %d: team %q (%v), want front-desk", i, got[i].Team, errs[i])
		}
	}
	list, err := db.ListTeams(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "front-desk" {
		t.Fatalf("teams %+v, want front-desk only", list)
	}
}

func TestRoutingRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	for _, name := range []string{"support", "billing", "shipping", "vip"} {
		mustTeam(t, db, ws, name)
	}
	rules := []parley.NewRoutingRule{
		{MatchIntent: "refund", Team: "billing"},
		{MatchTag: "delivery", Team: "shipping"},
		{MatchTag: "premium", Team: "vip", Priority: 10},
	}
	for _, r := range rules {
		if _, err := db.CreateRoutingRule(ctx, ws.ID, r); err != nil {
			t.Fatalf("create rule %+v: %v", r, err)
		}
	}
	tests := []struct {
		name, intent string
		tags         []string
		want         string
	}{
		{"intent", "refund", nil, "billing"},
		{"tag", "where_is_my_order", []string{"orders", "delivery"}, "shipping"},
		{"higher priority wins", "refund", []string{"premium"}, "vip"},
		{"no rule: default team", "greeting", []string{"misc"}, "support"},
		{"no candidate: default team", "", nil, "support"},
	}
	for _, tt := range tests {
		if e := escalate(t, db, ws, tt.intent, tt.tags); e.Team != tt.want {
			t.Errorf("%s: routed to %q, want %q", tt.name, e.Team, tt.want)
		}
	}

	list, err := db.ListRoutingRules(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Team != "vip" || list[0].MatchTag != "premium" {
		t.Fatalf("rules %+v, want 3 with the priority-10 rule first", list)
	}
	if err := db.DeleteRoutingRule(ctx, ws.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if e := escalate(t, db, ws, "refund", []string{"premium"}); e.Team != "billing" {
		t.Fatalf("after deleting the vip rule routed to %q, want billing", e.Team)
	}
}

func TestTeamAndAgentValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	if _, err := db.CreateTeam(ctx, ws.ID, "support"); parley.ErrorCode(err) != parley.EConflict {
		t.Errorf("duplicate team: %v, want conflict", err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"team name", func() error { _, err := db.CreateTeam(ctx, ws.ID, "no spaces"); return err }(), parley.EInvalid},
		{"agent without name", func() error {
			_, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Team: "support"})
			return err
		}(), parley.EInvalid},
		{"agent of unknown team", func() error {
			_, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Name: "A", Team: "nope"})
			return err
		}(), parley.EInvalid},
		{"bad email", func() error {
			_, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Name: "A", Team: "support", Email: "not-mail"})
			return err
		}(), parley.EInvalid},
		{"empty skill", func() error {
			_, err := db.CreateAgent(ctx, ws.ID, parley.NewAgent{Name: "A", Team: "support", Skills: []string{" "}})
			return err
		}(), parley.EInvalid},
		{"rule with both matches", func() error {
			_, err := db.CreateRoutingRule(ctx, ws.ID, parley.NewRoutingRule{MatchIntent: "a", MatchTag: "b", Team: "support"})
			return err
		}(), parley.EInvalid},
		{"rule with no match", func() error {
			_, err := db.CreateRoutingRule(ctx, ws.ID, parley.NewRoutingRule{Team: "support"})
			return err
		}(), parley.EInvalid},
		{"rule to unknown team", func() error {
			_, err := db.CreateRoutingRule(ctx, ws.ID, parley.NewRoutingRule{MatchTag: "b", Team: "nope"})
			return err
		}(), parley.EInvalid},
		{"patch unknown agent", func() error {
			_, err := db.UpdateAgent(ctx, ws.ID, "00000000-0000-0000-0000-000000000000", parley.AgentPatch{})
			return err
		}(), parley.ENotFound},
		{"delete malformed agent id", db.DeleteAgent(ctx, ws.ID, "x"), parley.ENotFound},
		{"delete unknown team", db.DeleteTeam(ctx, ws.ID, "nope"), parley.ENotFound},
	}
	for _, tt := range tests {
		if got := parley.ErrorCode(tt.err); got != tt.want {
			t.Errorf("%s: %v (%s), want %s", tt.name, tt.err, got, tt.want)
		}
	}
}

// Teams and agents with claimed escalations cannot be deleted; once the
// escalations are resolved they can, and the history stays.
func TestDeleteTeamAndAgentWithEscalations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	mustTeam(t, db, ws, "support")
	a := mustAgent(t, db, ws, "Ada", "support", true)
	e := escalate(t, db, ws, "", nil)
	if _, err := db.ClaimEscalation(ctx, ws.ID, e.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAgent(ctx, ws.ID, a.ID); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("delete agent holding a claim: %v, want conflict", err)
	}
	if err := db.DeleteTeam(ctx, ws.ID, "support"); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("delete team with an unresolved escalation: %v, want conflict", err)
	}
	if _, err := db.ResolveEscalation(ctx, parley.Resolution{WorkspaceID: ws.ID, EscalationID: e.ID, AgentID: a.ID, Reply: "Done."}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTeam(ctx, ws.ID, "support"); err != nil {
		t.Fatalf("delete team after resolving: %v", err)
	}
	got, err := db.Escalation(ctx, ws.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != parley.StatusResolved || got.Resolution != "Done." || got.Team != "" || got.Assignee != "" {
		t.Fatalf("escalation after team deletion %+v, want resolved history without team and assignee", got)
	}
	agents, err := db.ListAgents(ctx, ws.ID, "")
	if err != nil || len(agents) != 0 {
		t.Fatalf("agents after team deletion: %v %v, want none", agents, err)
	}
}
