package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// Limits on what agents and rules hold.
const (
	maxAgentName   = 200
	maxEmail       = 254
	maxSkills      = 50
	maxSkillChars  = 64
	maxMatchChars  = 200
	maxPriorityAbs = 1_000_000
)

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// CreateTeam creates a team; an existing name is a conflict.
func (db *DB) CreateTeam(ctx context.Context, workspaceID, name string) (parley.Team, error) {
	t := parley.Team{Name: name}
	if err := checkName("team", name); err != nil {
		return t, err
	}
	err := db.pool.QueryRow(ctx, `INSERT INTO teams (workspace_id, name) VALUES ($1, $2) RETURNING id, created_at`,
		workspaceID, name).Scan(&t.ID, &t.CreatedAt)
	return t, translate(err, fmt.Sprintf("team %q", name))
}

// ListTeams lists the workspace's teams by name, with their agent counts.
func (db *DB) ListTeams(ctx context.Context, workspaceID string) ([]parley.Team, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, t.created_at,
			(SELECT count(*) FROM agents a WHERE a.team_id = t.id),
			(SELECT count(*) FROM agents a WHERE a.team_id = t.id AND a.active)
		FROM teams t WHERE t.workspace_id = $1 ORDER BY t.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Team, error) {
		var t parley.Team
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.Agents, &t.ActiveAgents)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// DeleteTeam deletes a team (by name or id) with its agents and routing
// rules. A team with unresolved escalations, or whose agents hold claimed
// ones, cannot be deleted (conflict); its resolved escalations keep their
// history but lose the team and assignee references.
func (db *DB) DeleteTeam(ctx context.Context, workspaceID, ref string) error {
	if err := notNamed("team", ref); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var id, name string
		err := tx.QueryRow(ctx, `SELECT id, name FROM teams WHERE workspace_id = $1 AND (name = $2 OR id::text = $2) FOR UPDATE`,
			workspaceID, ref).Scan(&id, &name)
		if err != nil {
			return translate(err, fmt.Sprintf("team %q", ref))
		}
		// Lock the agents before the escalations, in the order claims take
		// them, so a concurrent claim waits instead of deadlocking.
		if _, err := tx.Exec(ctx, `SELECT id FROM agents WHERE team_id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("lock agents of team %s: %w", name, err)
		}
		var routed, held int
		err = tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM escalations WHERE workspace_id = $1 AND team_id = $2 AND status <> 'resolved'),
				(SELECT count(*) FROM escalations e JOIN agents a ON a.id = e.assignee_id
					WHERE e.workspace_id = $1 AND a.team_id = $2 AND e.status = 'claimed')`,
			workspaceID, id).Scan(&routed, &held)
		if err != nil {
			return fmt.Errorf("count escalations of team %s: %w", name, err)
		}
		if routed > 0 || held > 0 {
			return parley.Errorf(parley.EConflict,
				"team %q has %d unresolved escalations and its agents hold %d claimed ones: resolve them before deleting the team", name, routed, held)
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET team_id = NULL WHERE workspace_id = $1 AND team_id = $2`, workspaceID, id); err != nil {
			return fmt.Errorf("detach escalations from team %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET assignee_id = NULL
			WHERE workspace_id = $1 AND assignee_id IN (SELECT id FROM agents WHERE team_id = $2)`, workspaceID, id); err != nil {
			return fmt.Errorf("detach escalations from agents of team %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM teams WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete team %s: %w", name, err)
		}
		return nil
	})
}

// findTeam returns the id and name of the workspace's team named (or with
// id) ref. An unknown team is invalid input: it is named in a request body.
func findTeam(ctx context.Context, q querier, workspaceID, ref string) (id, name string, err error) {
	if notNamed("team", ref) != nil {
		return "", "", parley.Errorf(parley.EInvalid, "team %q does not exist in this workspace: create it first", ref)
	}
	err = q.QueryRow(ctx, `SELECT id, name FROM teams WHERE workspace_id = $1 AND (name = $2 OR id::text = $2)`,
		workspaceID, ref).Scan(&id, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", parley.Errorf(parley.EInvalid, "team %q does not exist in this workspace: create it first", ref)
	}
	if err != nil {
		return "", "", fmt.Errorf("find team %q: %w", ref, err)
	}
	return id, name, nil
}

const agentColumns = `a.id, a.name, a.email, t.name, a.skills, a.active, a.last_assigned_at, a.created_at`

func scanAgent(r pgx.Row) (parley.Agent, error) {
	var a parley.Agent
	err := r.Scan(&a.ID, &a.Name, &a.Email, &a.Team, &a.Skills, &a.Active, &a.LastAssignedAt, &a.CreatedAt)
	return a, err
}

// CreateAgent adds an agent to a team.
func (db *DB) CreateAgent(ctx context.Context, workspaceID string, n parley.NewAgent) (parley.Agent, error) {
	name, email, skills, err := validAgent(n.Name, n.Email, n.Skills)
	if err != nil {
		return parley.Agent{}, err
	}
	if strings.TrimSpace(n.Team) == "" {
		return parley.Agent{}, parley.Errorf(parley.EInvalid, "team is required: the name of the agent's team")
	}
	active := n.Active == nil || *n.Active
	var a parley.Agent
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		teamID, _, err := findTeam(ctx, tx, workspaceID, strings.TrimSpace(n.Team))
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `INSERT INTO agents (workspace_id, team_id, name, email, skills, active)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, workspaceID, teamID, name, email, skills, active).Scan(&id)
		if err != nil {
			return translate(err, "agent")
		}
		a, err = agent(ctx, tx, workspaceID, id)
		return err
	})
	return a, err
}

func agent(ctx context.Context, q querier, workspaceID, id string) (parley.Agent, error) {
	a, err := scanAgent(q.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a JOIN teams t ON t.id = a.team_id
		WHERE a.workspace_id = $1 AND a.id = $2`, workspaceID, id))
	return a, translate(err, fmt.Sprintf("agent %q", id))
}

// ListAgents lists the workspace's agents by team and name; team, when not
// empty, keeps one team's (by name or id).
func (db *DB) ListAgents(ctx context.Context, workspaceID, team string) ([]parley.Agent, error) {
	if team != "" {
		if _, _, err := findTeam(ctx, db.pool, workspaceID, team); err != nil {
			return nil, err
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents a JOIN teams t ON t.id = a.team_id
		WHERE a.workspace_id = $1 AND ($2 = '' OR t.name = $2 OR t.id::text = $2)
		ORDER BY t.name, a.name, a.id`, workspaceID, team)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	agents, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Agent, error) { return scanAgent(r) })
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return agents, nil
}

// UpdateAgent applies a patch to an agent. Moving an agent to another team
// or deactivating it leaves the escalations it holds with it.
func (db *DB) UpdateAgent(ctx context.Context, workspaceID, id string, p parley.AgentPatch) (parley.Agent, error) {
	if !parley.IsID(id) {
		return parley.Agent{}, parley.Errorf(parley.ENotFound, "agent %q not found", id)
	}
	var a parley.Agent
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanAgent(tx.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a JOIN teams t ON t.id = a.team_id
			WHERE a.workspace_id = $1 AND a.id = $2 FOR UPDATE OF a`, workspaceID, id))
		if err != nil {
			return translate(err, fmt.Sprintf("agent %q", id))
		}
		name, email, skills, active := cur.Name, cur.Email, cur.Skills, cur.Active
		if p.Name != nil {
			name = *p.Name
		}
		if p.Email != nil {
			email = *p.Email
		}
		if p.Skills != nil {
			skills = *p.Skills
		}
		if p.Active != nil {
			active = *p.Active
		}
		if name, email, skills, err = validAgent(name, email, skills); err != nil {
			return err
		}
		team := cur.Team
		if p.Team != nil {
			team = strings.TrimSpace(*p.Team)
		}
		teamID, _, err := findTeam(ctx, tx, workspaceID, team)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE agents SET name = $3, email = $4, skills = $5, active = $6, team_id = $7
			WHERE workspace_id = $1 AND id = $2`, workspaceID, id, name, email, skills, active, teamID)
		if err != nil {
			return translate(err, "agent")
		}
		a, err = agent(ctx, tx, workspaceID, id)
		return err
	})
	return a, err
}

// DeleteAgent deletes an agent. An agent holding claimed escalations cannot
// be deleted (conflict): deactivate it instead. Escalations it was assigned
// or resolved lose their assignee reference (the transcript keeps the name
// of whoever replied).
func (db *DB) DeleteAgent(ctx context.Context, workspaceID, id string) error {
	if !parley.IsID(id) {
		return parley.Errorf(parley.ENotFound, "agent %q not found", id)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM agents WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
			workspaceID, id).Scan(&name); err != nil {
			return translate(err, fmt.Sprintf("agent %q", id))
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE workspace_id = $1 AND assignee_id = $2 AND status = 'claimed'`,
			workspaceID, id).Scan(&held); err != nil {
			return fmt.Errorf("count escalations of agent %s: %w", id, err)
		}
		if held > 0 {
			return parley.Errorf(parley.EConflict,
				"agent %q holds %d claimed escalations: resolve them first, or deactivate the agent instead", name, held)
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET assignee_id = NULL WHERE workspace_id = $1 AND assignee_id = $2`,
			workspaceID, id); err != nil {
			return fmt.Errorf("detach escalations from agent %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM agents WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete agent %s: %w", id, err)
		}
		return nil
	})
}

// validAgent trims and checks an agent's name, e-mail and skills.
func validAgent(name, email string, skills []string) (string, string, []string, error) {
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", "", nil, parley.Errorf(parley.EInvalid, "name is required")
	case n > maxAgentName || !utf8.ValidString(name):
		return "", "", nil, parley.Errorf(parley.EInvalid, "name must be valid text of at most %d characters", maxAgentName)
	}
	if email != "" && (len(email) > maxEmail || !emailPattern.MatchString(email)) {
		return "", "", nil, parley.Errorf(parley.EInvalid, "email %q is not an e-mail address", email)
	}
	if len(skills) > maxSkills {
		return "", "", nil, parley.Errorf(parley.EInvalid, "an agent has at most %d skills, got %d", maxSkills, len(skills))
	}
	out := make([]string, 0, len(skills))
	seen := map[string]bool{}
	for _, s := range skills {
		s = strings.TrimSpace(s)
		if s == "" || utf8.RuneCountInString(s) > maxSkillChars || !utf8.ValidString(s) {
			return "", "", nil, parley.Errorf(parley.EInvalid, "skill %q: each skill is 1-%d characters", s, maxSkillChars)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return name, email, out, nil
}

// CreateRoutingRule adds a routing rule.
func (db *DB) CreateRoutingRule(ctx context.Context, workspaceID string, n parley.NewRoutingRule) (parley.RoutingRule, error) {
	intent, tag := strings.TrimSpace(n.MatchIntent), strings.TrimSpace(n.MatchTag)
	switch {
	case (intent == "") == (tag == ""):
		return parley.RoutingRule{}, parley.Errorf(parley.EInvalid, "give exactly one of match_intent and match_tag")
	case utf8.RuneCountInString(intent+tag) > maxMatchChars:
		return parley.RoutingRule{}, parley.Errorf(parley.EInvalid, "match_intent and match_tag have at most %d characters", maxMatchChars)
	case n.Priority < -maxPriorityAbs || n.Priority > maxPriorityAbs:
		return parley.RoutingRule{}, parley.Errorf(parley.EInvalid, "priority must be from %d to %d", -maxPriorityAbs, maxPriorityAbs)
	case strings.TrimSpace(n.Team) == "":
		return parley.RoutingRule{}, parley.Errorf(parley.EInvalid, "team is required: the name of the team to route to")
	}
	r := parley.RoutingRule{MatchIntent: intent, MatchTag: tag, Priority: n.Priority}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		teamID, team, err := findTeam(ctx, tx, workspaceID, strings.TrimSpace(n.Team))
		if err != nil {
			return err
		}
		r.Team = team
		err = tx.QueryRow(ctx, `INSERT INTO routing_rules (workspace_id, team_id, match_intent, match_tag, priority)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, workspaceID, teamID, intent, tag, n.Priority).
			Scan(&r.ID, &r.CreatedAt)
		return translate(err, "routing rule")
	})
	return r, err
}

// ListRoutingRules lists the workspace's rules in the order they are tried.
func (db *DB) ListRoutingRules(ctx context.Context, workspaceID string) ([]parley.RoutingRule, error) {
	rows, err := db.pool.Query(ctx, `SELECT r.id, r.match_intent, r.match_tag, t.name, r.priority, r.created_at
		FROM routing_rules r JOIN teams t ON t.id = r.team_id
		WHERE r.workspace_id = $1 ORDER BY r.priority DESC, r.created_at, r.id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.RoutingRule, error) {
		var r parley.RoutingRule
		err := row.Scan(&r.ID, &r.MatchIntent, &r.MatchTag, &r.Team, &r.Priority, &r.CreatedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	return rules, nil
}

// DeleteRoutingRule deletes one rule.
func (db *DB) DeleteRoutingRule(ctx context.Context, workspaceID, id string) error {
	if !parley.IsID(id) {
		return parley.Errorf(parley.ENotFound, "routing rule %q not found", id)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM routing_rules WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("delete routing rule: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "routing rule %q not found", id)
	}
	return nil
}
