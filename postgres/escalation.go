package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// MaxReplyChars is the longest reply an agent may resolve an escalation
// with.
const MaxReplyChars = 20000

const escalationColumns = `e.id, e.conversation_id, e.reason, e.status, coalesce(t.name, ''),
	coalesce(e.assignee_id::text, ''), coalesce(a.name, ''), %s, e.resolution, e.created_at, e.claimed_at, e.resolved_at
	FROM escalations e LEFT JOIN teams t ON t.id = e.team_id LEFT JOIN agents a ON a.id = e.assignee_id`

// fullEscalation selects the whole context packet; listEscalation leaves
// out the transcript and the candidates, which only the detail view needs.
var (
	fullEscalation = fmt.Sprintf(escalationColumns, `e.context`)
	listEscalation = fmt.Sprintf(escalationColumns, `e.context - 'transcript' - 'candidates'`)
)

func scanEscalation(r pgx.Row) (parley.Escalation, error) {
	var (
		e   parley.Escalation
		raw []byte
	)
	err := r.Scan(&e.ID, &e.ConversationID, &e.Reason, &e.Status, &e.Team, &e.Assignee, &e.AssigneeName,
		&raw, &e.Resolution, &e.CreatedAt, &e.ClaimedAt, &e.ResolvedAt)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(raw, &e.Context); err != nil {
		return e, fmt.Errorf("decode context of escalation %s: %w", e.ID, err)
	}
	return e, nil
}

// ListEscalations returns a page of the workspace's escalations, oldest
// first (the order a queue is worked in), without their transcripts and
// candidates, and the cursor of the next page ("" on the last).
func (db *DB) ListEscalations(ctx context.Context, workspaceID string, f parley.EscalationFilter) ([]parley.Escalation, string, error) {
	switch f.Status {
	case "", parley.StatusOpen, parley.StatusClaimed, parley.StatusResolved:
	default:
		return nil, "", parley.Errorf(parley.EInvalid, "status must be open, claimed or resolved, got %q", f.Status)
	}
	var teamID *string
	if f.Team != "" {
		id, _, err := findTeam(ctx, db.pool, workspaceID, f.Team)
		if err != nil {
			return nil, "", err
		}
		teamID = &id
	}
	afterAt, afterID, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	f.Limit = max(f.Limit, 1)
	rows, err := db.pool.Query(ctx, `SELECT `+listEscalation+`
		WHERE e.workspace_id = $1 AND ($2 = '' OR e.status = $2) AND ($3::uuid IS NULL OR e.team_id = $3)
			AND ($4::timestamptz IS NULL OR (e.created_at, e.id) > ($4, $5::uuid))
		ORDER BY e.created_at, e.id LIMIT $6`, workspaceID, f.Status, teamID, afterAt, afterID, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list escalations: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Escalation, error) { return scanEscalation(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list escalations: %w", err)
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	return list, next, nil
}

// Escalation returns one of the workspace's escalations with its full
// context packet.
func (db *DB) Escalation(ctx context.Context, workspaceID, id string) (parley.Escalation, error) {
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	return escalation(ctx, db.pool, workspaceID, id)
}

func escalation(ctx context.Context, q querier, workspaceID, id string) (parley.Escalation, error) {
	e, err := scanEscalation(q.QueryRow(ctx, `SELECT `+fullEscalation+` WHERE e.workspace_id = $1 AND e.id = $2`, workspaceID, id))
	return e, translate(err, fmt.Sprintf("escalation %q", id))
}

// ClaimEscalation gives an open escalation to an agent of the workspace.
// Of agents claiming at once exactly one wins: the claim is a conditional
// UPDATE on status = 'open', and the others get a conflict naming the
// holder. Claiming again an escalation one already holds succeeds and
// changes nothing. An escalation.claimed event goes to the outbox.
func (db *DB) ClaimEscalation(ctx context.Context, workspaceID, id, agentID string) (parley.Escalation, error) {
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	var esc parley.Escalation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockAgent(ctx, tx, workspaceID, agentID, true); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE escalations SET status = 'claimed', assignee_id = $3, claimed_at = now()
			WHERE workspace_id = $1 AND id = $2 AND status = 'open'`, workspaceID, id, agentID)
		if err != nil {
			return fmt.Errorf("claim escalation %s: %w", id, err)
		}
		if esc, err = escalation(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			if esc.Status == parley.StatusClaimed && esc.Assignee == agentID {
				return nil
			}
			return heldBy(esc)
		}
		return enqueueEvent(ctx, tx, workspaceID, "escalation.claimed", esc)
	})
	return esc, err
}

// ResolveEscalation answers the customer with an agent's reply and closes
// the escalation, in one transaction: the reply becomes an agent message of
// the conversation, the escalation is resolved with the reply as its
// resolution, the conversation is marked resolved and an
// escalation.resolved event goes to the outbox. The escalation must be
// claimed by that agent, or open: then it is claimed and resolved at once.
func (db *DB) ResolveEscalation(ctx context.Context, workspaceID, id, agentID, reply string) (parley.Escalation, error) {
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	reply = strings.TrimSpace(reply)
	switch n := utf8.RuneCountInString(reply); {
	case n == 0:
		return parley.Escalation{}, parley.Errorf(parley.EInvalid, "reply is empty: send the answer for the customer")
	case !utf8.ValidString(reply):
		return parley.Escalation{}, parley.Errorf(parley.EInvalid, "reply is not valid UTF-8")
	case n > MaxReplyChars:
		return parley.Escalation{}, parley.Errorf(parley.ETooLarge, "reply has %d characters; the limit is %d", n, MaxReplyChars)
	}
	var esc parley.Escalation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// The agent is locked before the escalation, as in a claim.
		agent, err := lockAgent(ctx, tx, workspaceID, agentID, false)
		if err != nil {
			return err
		}
		cur, err := scanEscalation(tx.QueryRow(ctx, `SELECT `+fullEscalation+`
			WHERE e.workspace_id = $1 AND e.id = $2 FOR UPDATE OF e`, workspaceID, id))
		if err != nil {
			return translate(err, fmt.Sprintf("escalation %q", id))
		}
		switch {
		case cur.Status == parley.StatusOpen && !agent.Active:
			return inactive(agent)
		case cur.Status == parley.StatusResolved, cur.Status == parley.StatusClaimed && cur.Assignee != agentID:
			return heldBy(cur)
		}
		meta := map[string]any{"escalation_id": id, "agent_id": agentID, "agent_name": agent.Name}
		if _, err := addMessage(ctx, tx, workspaceID, cur.ConversationID, parley.RoleHuman, reply, meta, "resolved"); err != nil {
			return err
		}
		esc = cur
		err = tx.QueryRow(ctx, `UPDATE escalations SET status = 'resolved', assignee_id = $3,
				claimed_at = coalesce(claimed_at, now()), resolution = $4, resolved_at = now()
			WHERE id = $2 AND workspace_id = $1 RETURNING claimed_at, resolved_at`, workspaceID, id, agentID, reply).
			Scan(&esc.ClaimedAt, &esc.ResolvedAt)
		if err != nil {
			return fmt.Errorf("resolve escalation %s: %w", id, err)
		}
		esc.Status, esc.Assignee, esc.AssigneeName, esc.Resolution = parley.StatusResolved, agentID, agent.Name, reply
		return enqueueEvent(ctx, tx, workspaceID, "escalation.resolved", esc)
	})
	return esc, err
}

// lockAgent returns the workspace's agent agentID, locked against deletion
// until the transaction ends. An unknown agent is invalid input: it is
// named in a request body. needActive refuses inactive agents.
func lockAgent(ctx context.Context, tx pgx.Tx, workspaceID, agentID string, needActive bool) (parley.Agent, error) {
	a := parley.Agent{ID: agentID}
	if agentID == "" {
		return a, parley.Errorf(parley.EInvalid, "agent_id is required: the id of the agent acting")
	}
	if !parley.IsID(agentID) {
		return a, parley.Errorf(parley.EInvalid, "agent_id %q is not an agent id", agentID)
	}
	err := tx.QueryRow(ctx, `SELECT name, active FROM agents WHERE workspace_id = $1 AND id = $2 FOR SHARE`,
		workspaceID, agentID).Scan(&a.Name, &a.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, parley.Errorf(parley.EInvalid, "agent %s does not exist in this workspace", agentID)
	}
	if err != nil {
		return a, fmt.Errorf("find agent %s: %w", agentID, err)
	}
	if needActive && !a.Active {
		return a, inactive(a)
	}
	return a, nil
}

func inactive(a parley.Agent) error {
	return parley.Errorf(parley.EInvalid, "agent %q (%s) is inactive: activate it to take escalations", a.Name, a.ID)
}

// heldBy is the conflict of acting on an escalation someone else holds or
// that is already resolved.
func heldBy(e parley.Escalation) error {
	who := "an agent since deleted"
	if e.Assignee != "" {
		who = fmt.Sprintf("%q (agent %s)", e.AssigneeName, e.Assignee)
	}
	if e.Status == parley.StatusResolved {
		return parley.Errorf(parley.EConflict, "escalation %s was already resolved by %s", e.ID, who)
	}
	return parley.Errorf(parley.EConflict, "escalation %s is already claimed by %s", e.ID, who)
}

// ResolvedConversations returns a page of the workspace's resolved
// conversations whose last resolved escalation was resolved at or after
// since, oldest resolution first, and the cursor of the next page ("" on
// the last).
func (db *DB) ResolvedConversations(ctx context.Context, workspaceID string, since time.Time, after string, limit int) ([]parley.ResolvedConversation, string, error) {
	afterAt, afterID, err := decodeCursor(after)
	if err != nil {
		return nil, "", err
	}
	limit = max(limit, 1)
	// The escalations resolved since (or since the cursor's time), in order
	// of the index escalations_resolved, that are the last resolved of their
	// conversation.
	rows, err := db.pool.Query(ctx, `SELECT c.id, coalesce(nullif(c.language, ''), e.context->>'language', ''),
			e.resolution, e.resolved_at,
			coalesce(e.context->'candidates'->0->>'intent', ''),
			coalesce(e.context->'candidates'->0->'tags', '[]')
		FROM escalations e
		JOIN conversations c ON c.workspace_id = e.workspace_id AND c.id = e.conversation_id
		WHERE e.workspace_id = $1 AND e.status = 'resolved' AND e.resolved_at >= greatest($2::timestamptz, $3::timestamptz)
			AND ($3::timestamptz IS NULL OR (e.resolved_at, e.conversation_id) > ($3, $4::uuid))
			AND c.status = 'resolved'
			AND NOT EXISTS (SELECT FROM escalations later
				WHERE later.workspace_id = e.workspace_id AND later.conversation_id = e.conversation_id
					AND later.status = 'resolved' AND (later.resolved_at, later.id) > (e.resolved_at, e.id))
		ORDER BY e.resolved_at, e.conversation_id LIMIT $5`, workspaceID, since, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list resolved conversations: %w", err)
	}
	convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.ResolvedConversation, error) {
		var (
			c    parley.ResolvedConversation
			tags []byte
		)
		if err := r.Scan(&c.ID, &c.Language, &c.Resolution, &c.ResolvedAt, &c.Intent, &tags); err != nil {
			return c, err
		}
		if json.Unmarshal(tags, &c.Tags) != nil || c.Tags == nil {
			c.Tags = []string{}
		}
		c.Messages = []parley.Turn{}
		return c, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list resolved conversations: %w", err)
	}
	next := ""
	if len(convs) > limit {
		convs = convs[:limit]
		last := convs[len(convs)-1]
		next = encodeCursor(last.ResolvedAt, last.ID)
	}
	if err := db.fillTurns(ctx, workspaceID, convs); err != nil {
		return nil, "", err
	}
	return convs, next, nil
}

// fillTurns reads the customer, bot and agent messages of convs.
func (db *DB) fillTurns(ctx context.Context, workspaceID string, convs []parley.ResolvedConversation) error {
	if len(convs) == 0 {
		return nil
	}
	ids := make([]string, len(convs))
	index := make(map[string]int, len(convs))
	for i, c := range convs {
		ids[i], index[c.ID] = c.ID, i
	}
	rows, err := db.pool.Query(ctx, `SELECT conversation_id, role, text, created_at FROM messages
		WHERE workspace_id = $1 AND conversation_id = ANY($2::uuid[]) AND role IN ('customer', 'bot', 'agent')
		ORDER BY conversation_id, id`, workspaceID, ids)
	if err != nil {
		return fmt.Errorf("read transcripts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			conv string
			t    parley.Turn
		)
		if err := rows.Scan(&conv, &t.Role, &t.Text, &t.At); err != nil {
			return fmt.Errorf("read transcripts: %w", err)
		}
		i := index[conv]
		t.At = t.At.UTC()
		convs[i].Messages = append(convs[i].Messages, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read transcripts: %w", err)
	}
	return nil
}

// A cursor is opaque to clients: the sort key (a time and an id) of the
// last row of a page.
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// decodeCursor returns nil values for an empty cursor.
func decodeCursor(cursor string) (*time.Time, *string, error) {
	if cursor == "" {
		return nil, nil, nil
	}
	bad := parley.Errorf(parley.EInvalid, "after %q is not a cursor from a previous page", cursor)
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, nil, bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || !parley.IsID(id) {
		return nil, nil, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, nil, bad
	}
	return &t, &id, nil
}
