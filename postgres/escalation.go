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
	coalesce(e.assignee_id::text, ''), coalesce(a.name, ''), %s, e.resolution, e.created_at, e.claimed_at, e.resolved_at, e.answered_by
	FROM escalations e LEFT JOIN teams t ON t.id = e.team_id LEFT JOIN agents a ON a.id = e.assignee_id`

// fullEscalation selects the whole context packet; listEscalation leaves
// out the transcript and the candidates, which only the detail view needs.
var (
	fullEscalation = fmt.Sprintf(escalationColumns, `e.context`)
	listEscalation = fmt.Sprintf(escalationColumns, `e.context - 'transcript' - 'candidates'`)
)

func scanEscalation(r pgx.Row) (parley.Escalation, error) {
	var (
		e        parley.Escalation
		raw      []byte
		answered []byte
	)
	err := r.Scan(&e.ID, &e.ConversationID, &e.Reason, &e.Status, &e.Team, &e.Assignee, &e.AssigneeName,
		&raw, &e.Resolution, &e.CreatedAt, &e.ClaimedAt, &e.ResolvedAt, &answered)
	if err != nil {
		return e, err
	}
	if e.Context, err = decodeContext(raw); err != nil {
		return e, fmt.Errorf("decode context of escalation %s: %w", e.ID, err)
	}
	if answered != nil {
		if err := json.Unmarshal(answered, &e.AnsweredBy); err != nil {
			return e, fmt.Errorf("decode answered_by of escalation %s: %w", e.ID, err)
		}
	}
	return e, nil
}

// ListEscalations returns a page of the workspace's escalations, oldest
// first (the order a queue is worked in), without their transcripts and
// candidates, and the cursor of the next page ("" on the last).
func (db *DB) ListEscalations(ctx context.Context, workspaceID string, f parley.EscalationFilter) ([]parley.Escalation, string, error) {
	switch f.Status {
	case "", parley.StatusOpen, parley.StatusClaimed, parley.StatusResolved, parley.Unresolved:
	default:
		return nil, "", parley.Errorf(parley.EInvalid, "status must be open, claimed, resolved or unresolved, got %q", f.Status)
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
		WHERE e.workspace_id = $1 AND ($2 = '' OR e.status = $2 OR ($2 = 'unresolved' AND e.status <> 'resolved'))
			AND ($3::uuid IS NULL OR e.team_id = $3)
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

// EscalationItem returns one of the workspace's escalations as the queue
// lists it: without transcript and candidates.
func (db *DB) EscalationItem(ctx context.Context, workspaceID, id string) (parley.Escalation, error) {
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	return selectEscalation(ctx, db.pool, listEscalation, workspaceID, id)
}

func escalation(ctx context.Context, q querier, workspaceID, id string) (parley.Escalation, error) {
	return selectEscalation(ctx, q, fullEscalation, workspaceID, id)
}

// selectEscalation reads an escalation with columns (fullEscalation or
// listEscalation).
func selectEscalation(ctx context.Context, q querier, columns, workspaceID, id string) (parley.Escalation, error) {
	e, err := scanEscalation(q.QueryRow(ctx, `SELECT `+columns+` WHERE e.workspace_id = $1 AND e.id = $2`, workspaceID, id))
	return e, translate(err, fmt.Sprintf("escalation %q", id))
}

// handoffMessages is the most of a conversation's messages since a handoff
// that the escalation's detail view shows.
const handoffMessages = 500

// Escalation returns one of the workspace's escalations with its full
// context packet and the conversation's messages since the handoff (notes
// included: agents read them).
func (db *DB) Escalation(ctx context.Context, workspaceID, id string) (parley.Escalation, error) {
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	e, err := escalation(ctx, db.pool, workspaceID, id)
	if err != nil {
		return e, err
	}
	rows, err := db.pool.Query(ctx, `SELECT m.id, m.role, m.text, m.internal, m.meta, m.created_at, f.helpful
		FROM messages m LEFT JOIN feedback f ON f.message_id = m.id
		WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.created_at >= $3
		ORDER BY m.id LIMIT $4`, workspaceID, e.ConversationID, e.CreatedAt, handoffMessages)
	if err == nil {
		e.Messages, err = pgx.CollectRows(rows, scanMessage)
	}
	if err != nil {
		return e, fmt.Errorf("read messages since escalation %s: %w", id, err)
	}
	return e, nil
}

// ClaimEscalation gives an open escalation to an agent of the workspace.
// Of agents claiming at once exactly one wins: the claim is a conditional
// UPDATE on status = 'open', and the others get a conflict naming the
// holder. Claiming again an escalation one already holds succeeds and
// changes nothing. The conversation goes to state agent, and an
// escalation.claimed event to the outbox.
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
		if _, err := tx.Exec(ctx, `UPDATE conversations SET status = 'agent', updated_at = now()
			WHERE workspace_id = $1 AND id = $2`, workspaceID, esc.ConversationID); err != nil {
			return fmt.Errorf("update conversation %s: %w", esc.ConversationID, err)
		}
		return enqueueEvent(ctx, tx, workspaceID, parley.EventEscalationClaimed, esc)
	})
	return esc, err
}

// ResolveEscalation closes an escalation for an agent, with a final reply
// to the customer or without one (reply empty): as PostAgentMessage with
// Resolve, naming the escalation instead of the conversation.
func (db *DB) ResolveEscalation(ctx context.Context, r parley.Resolution) (parley.Escalation, error) {
	workspaceID, id, agentID := r.WorkspaceID, r.EscalationID, r.AgentID
	if !parley.IsID(id) {
		return parley.Escalation{}, parley.Errorf(parley.ENotFound, "escalation %q not found", id)
	}
	m := parley.AgentMessage{AgentID: agentID, Text: strings.TrimSpace(r.Reply), Resolve: true, AnsweredBy: r.AnsweredBy}
	if err := checkAgentText(m); err != nil {
		return parley.Escalation{}, err
	}
	var post parley.AgentPost
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
		m.ConversationID = cur.ConversationID
		post, err = act(ctx, tx, workspaceID, cur, agent, m)
		return err
	})
	return post.Escalation, err
}

// PostAgentMessage stores an agent's reply or internal note in a
// conversation handed to a person and, with m.Resolve, resolves the
// handoff, in one transaction. The conversation's unresolved escalation
// must be the agent's, or open: the agent then claims it. A conversation
// with the bot, or resolved, has no handoff to write in: a conflict.
func (db *DB) PostAgentMessage(ctx context.Context, workspaceID string, m parley.AgentMessage) (parley.AgentPost, error) {
	if !parley.IsID(m.ConversationID) {
		return parley.AgentPost{}, parley.Errorf(parley.ENotFound, "conversation %q not found", m.ConversationID)
	}
	m.Text = strings.TrimSpace(m.Text)
	if err := checkAgentText(m); err != nil {
		return parley.AgentPost{}, err
	}
	var post parley.AgentPost
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		agent, err := lockAgent(ctx, tx, workspaceID, m.AgentID, false)
		if err != nil {
			return err
		}
		cur, err := scanEscalation(tx.QueryRow(ctx, `SELECT `+fullEscalation+`
			WHERE e.workspace_id = $1 AND e.conversation_id = $2 AND e.status <> 'resolved' FOR UPDATE OF e`,
			workspaceID, m.ConversationID))
		if errors.Is(err, pgx.ErrNoRows) {
			var state string
			err = tx.QueryRow(ctx, `SELECT status FROM conversations WHERE workspace_id = $1 AND id = $2`,
				workspaceID, m.ConversationID).Scan(&state)
			if err != nil {
				return translate(err, "conversation "+m.ConversationID)
			}
			return parley.Errorf(parley.EConflict, "conversation %s is %s, not handed to a person: there is no handoff to write in", m.ConversationID, describeState(state))
		}
		if err != nil {
			return fmt.Errorf("find the handoff of conversation %s: %w", m.ConversationID, err)
		}
		post, err = act(ctx, tx, workspaceID, cur, agent, m)
		return err
	})
	return post, err
}

func describeState(state string) string {
	if state == parley.StateResolved {
		return "resolved"
	}
	return "with the bot"
}

// checkAgentText validates the text of an agent's message: a reply or note
// needs text; a resolution may come without.
func checkAgentText(m parley.AgentMessage) error {
	switch n := utf8.RuneCountInString(m.Text); {
	case n == 0 && !m.Resolve:
		return parley.Errorf(parley.EInvalid, "text is empty: send the message for the customer (or resolve)")
	case !utf8.ValidString(m.Text):
		return parley.Errorf(parley.EInvalid, "text is not valid UTF-8")
	case n > MaxReplyChars:
		return parley.Errorf(parley.ETooLarge, "text has %d characters; the limit is %d", n, MaxReplyChars)
	}
	return nil
}

// act does what an agent's message m does to cur, the conversation's
// unresolved escalation, locked by the caller: claims it if it is open,
// stores the message and resolves it when asked, queueing the webhook
// events. The conversation's state follows: agent, or resolved.
func act(ctx context.Context, tx pgx.Tx, workspaceID string, cur parley.Escalation, agent parley.Agent, m parley.AgentMessage) (parley.AgentPost, error) {
	post := parley.AgentPost{Escalation: cur, State: parley.StateAgent}
	switch {
	case cur.Status == parley.StatusResolved, cur.Status == parley.StatusClaimed && cur.Assignee != agent.ID:
		return post, heldBy(cur)
	case cur.Status == parley.StatusOpen && !agent.Active:
		return post, inactive(agent)
	}
	var named *parley.AnsweredKnowledge
	if m.AnsweredBy != nil {
		if m.Internal {
			return post, parley.Errorf(parley.EInvalid, "answered_by names the knowledge a reply to the customer comes from; a note has none")
		}
		k, err := answeredKnowledge(ctx, tx, workspaceID, *m.AnsweredBy)
		if err != nil {
			return post, err
		}
		named = k
	}
	esc := &post.Escalation
	if cur.Status == parley.StatusOpen {
		err := tx.QueryRow(ctx, `UPDATE escalations SET status = 'claimed', assignee_id = $3, claimed_at = now()
			WHERE workspace_id = $1 AND id = $2 RETURNING claimed_at`, workspaceID, cur.ID, agent.ID).Scan(&esc.ClaimedAt)
		if err != nil {
			return post, fmt.Errorf("claim escalation %s: %w", cur.ID, err)
		}
		esc.Status, esc.Assignee, esc.AssigneeName = parley.StatusClaimed, agent.ID, agent.Name
		if !m.Resolve {
			if err := enqueueEvent(ctx, tx, workspaceID, parley.EventEscalationClaimed, *esc); err != nil {
				return post, err
			}
		}
	}
	if m.Resolve {
		post.State = parley.StateResolved
	}
	if m.Text != "" {
		msg, err := addAgentMessage(ctx, tx, workspaceID, cur, agent, m, named, post.State)
		if err != nil {
			return post, err
		}
		post.Message = &msg
	} else if _, err := tx.Exec(ctx, `UPDATE conversations SET status = $3, updated_at = now()
		WHERE workspace_id = $1 AND id = $2`, workspaceID, cur.ConversationID, post.State); err != nil {
		return post, fmt.Errorf("update conversation %s: %w", cur.ConversationID, err)
	}
	if !m.Resolve {
		return post, nil
	}
	// The knowledge that answered is what the resolution names, or else
	// what the agent's last reply in this handoff named (a suggestion
	// sent), if anything.
	if named == nil {
		k, err := lastAnsweredBy(ctx, tx, workspaceID, cur)
		if err != nil {
			return post, err
		}
		named = k
	}
	var answered []byte
	if named != nil {
		var err error
		if answered, err = json.Marshal(named); err != nil {
			return post, fmt.Errorf("encode answered_by: %w", err)
		}
	}
	esc.AnsweredBy = named
	// The resolution is the final reply, or else the agent's last reply
	// to the customer in this handoff.
	err := tx.QueryRow(ctx, `UPDATE escalations SET status = 'resolved', resolved_at = now(), answered_by = $5,
			resolution = coalesce(nullif($3, ''), (SELECT m.text FROM messages m
				WHERE m.workspace_id = $1 AND m.conversation_id = $4 AND m.role = 'agent' AND NOT m.internal
					AND m.created_at >= escalations.created_at ORDER BY m.id DESC LIMIT 1), '')
		WHERE workspace_id = $1 AND id = $2 RETURNING resolution, resolved_at`,
		workspaceID, cur.ID, publicText(m), cur.ConversationID, answered).Scan(&esc.Resolution, &esc.ResolvedAt)
	if err != nil {
		return post, fmt.Errorf("resolve escalation %s: %w", cur.ID, err)
	}
	esc.Status = parley.StatusResolved
	return post, enqueueEvent(ctx, tx, workspaceID, parley.EventEscalationResolved, *esc)
}

// publicText is the text of m the customer sees: none for a note.
func publicText(m parley.AgentMessage) string {
	if m.Internal {
		return ""
	}
	return m.Text
}

// addAgentMessage stores agent's message m (a note when internal) in the
// conversation of cur and sets the conversation's state, in one statement.
func addAgentMessage(ctx context.Context, tx pgx.Tx, workspaceID string, cur parley.Escalation, agent parley.Agent, m parley.AgentMessage, answered *parley.AnsweredKnowledge, state string) (parley.Message, error) {
	msg := parley.Message{Role: parley.RoleHuman, Text: m.Text, Internal: m.Internal}
	meta := agentMeta{EscalationID: cur.ID, AgentID: agent.ID, AgentName: agent.Name}
	if !m.Internal {
		meta.AnsweredBy = answered
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return msg, fmt.Errorf("encode agent message meta: %w", err)
	}
	err = tx.QueryRow(ctx, `WITH m AS (
			INSERT INTO messages (workspace_id, conversation_id, role, text, internal, meta)
			VALUES ($1, $2, 'agent', $3, $4, $5) RETURNING id, meta, created_at
		), c AS (
			UPDATE conversations SET status = $6, updated_at = now() WHERE workspace_id = $1 AND id = $2
		)
		SELECT id, meta, created_at FROM m`, workspaceID, cur.ConversationID, m.Text, m.Internal, raw, state).
		Scan(&msg.ID, &msg.Meta, &msg.CreatedAt)
	if err != nil {
		return msg, fmt.Errorf("store agent message in conversation %s: %w", cur.ConversationID, err)
	}
	return msg, nil
}

// agentMeta is stored with an agent's message: who wrote it, in which
// handoff.
type agentMeta struct {
	EscalationID string `json:"escalation_id"`
	AgentID      string `json:"agent_id"`
	AgentName    string `json:"agent_name"`
	// AnsweredBy is the knowledge the reply came from, as the agent said.
	AnsweredBy *parley.AnsweredKnowledge `json:"answered_by,omitempty"`
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
			coalesce(e.answered_by->>'intent', ''), coalesce(e.answered_by->'tags', '[]'), c.customer,
			coalesce((SELECT string_agg(k.text || ' ' || k.answer, ' ') FROM (SELECT text, answer FROM chunks
				WHERE workspace_id = e.workspace_id AND group_key = e.answered_by->>'group' ORDER BY id LIMIT 20) k), '')
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
			c              parley.ResolvedConversation
			tags, customer []byte
		)
		if err := r.Scan(&c.ID, &c.Language, &c.Resolution, &c.ResolvedAt, &c.Intent, &tags, &customer, &c.Knowledge); err != nil {
			return c, err
		}
		if err := json.Unmarshal(customer, &c.Customer); err != nil {
			return c, fmt.Errorf("decode the customer of conversation %s: %w", c.ID, err)
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
		WHERE workspace_id = $1 AND conversation_id = ANY($2::uuid[]) AND role IN ('customer', 'bot', 'agent') AND NOT internal
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
