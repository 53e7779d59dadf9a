package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// CreateConversation starts a conversation.
func (db *DB) CreateConversation(ctx context.Context, workspaceID, channel string, customer parley.Customer, language string) (parley.Conversation, error) {
	c := parley.Conversation{WorkspaceID: workspaceID, Channel: channel, Customer: customer, Language: language}
	cust, err := json.Marshal(customer)
	if err != nil {
		return c, fmt.Errorf("encode customer: %w", err)
	}
	err = db.pool.QueryRow(ctx, `INSERT INTO conversations (workspace_id, channel, customer, language)
		VALUES ($1, $2, $3, $4) RETURNING id, status, created_at, updated_at`,
		workspaceID, channel, cust, language).Scan(&c.ID, &c.Status, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// Conversation returns one of the workspace's conversations with its last
// messages (at most limit, oldest first).
func (db *DB) Conversation(ctx context.Context, workspaceID, id string, limit int) (parley.Conversation, error) {
	if !parley.IsID(id) {
		return parley.Conversation{}, parley.Errorf(parley.ENotFound, "conversation %q not found", id)
	}
	var c parley.Conversation
	var cust []byte
	err := db.pool.QueryRow(ctx, `SELECT id, workspace_id, channel, customer, language, status, visitor_id, created_at, updated_at
		FROM conversations WHERE workspace_id = $1 AND id = $2`, workspaceID, id).
		Scan(&c.ID, &c.WorkspaceID, &c.Channel, &cust, &c.Language, &c.Status, &c.VisitorID, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, translate(err, "conversation "+id)
	}
	if err := json.Unmarshal(cust, &c.Customer); err != nil {
		return c, fmt.Errorf("decode customer of conversation %s: %w", id, err)
	}
	c.Messages, err = db.messages(ctx, db.pool, workspaceID, id, limit)
	return c, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (db *DB) messages(ctx context.Context, q querier, workspaceID, conversationID string, limit int) ([]parley.Message, error) {
	rows, err := q.Query(ctx, `SELECT m.id, m.role, m.text, m.internal, m.meta, m.created_at, f.helpful FROM (
			SELECT id, role, text, internal, meta, created_at FROM messages
			WHERE workspace_id = $1 AND conversation_id = $2 ORDER BY id DESC LIMIT $3
		) m LEFT JOIN feedback f ON f.message_id = m.id ORDER BY m.id`, workspaceID, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return msgs, nil
}

// scanMessage reads id, role, text, internal, meta, created_at and the
// feedback's helpful (NULL without feedback).
func scanMessage(r pgx.CollectableRow) (parley.Message, error) {
	var m parley.Message
	err := r.Scan(&m.ID, &m.Role, &m.Text, &m.Internal, &m.Meta, &m.CreatedAt, &m.Helpful)
	return m, err
}

// RecordFeedback stores a customer's verdict on a bot message of the
// conversation (a later verdict replaces an earlier one) and returns the
// conversation's state. A message that is not one of the conversation's
// bot messages is not found.
func (db *DB) RecordFeedback(ctx context.Context, workspaceID string, f parley.Feedback) (string, error) {
	if !parley.IsID(f.ConversationID) {
		return "", parley.Errorf(parley.ENotFound, "conversation %q not found", f.ConversationID)
	}
	var (
		state    string
		recorded bool
	)
	err := db.pool.QueryRow(ctx, `WITH m AS (
			SELECT id FROM messages WHERE workspace_id = $1 AND conversation_id = $2 AND id = $3 AND role = 'bot'
		), ins AS (
			INSERT INTO feedback (message_id, workspace_id, conversation_id, helpful)
			SELECT id, $1, $2, $4 FROM m
			ON CONFLICT (message_id) DO UPDATE SET helpful = EXCLUDED.helpful, created_at = now()
			RETURNING message_id
		)
		SELECT c.status, EXISTS (SELECT FROM ins) FROM conversations c WHERE c.workspace_id = $1 AND c.id = $2`,
		workspaceID, f.ConversationID, f.MessageID, f.Helpful).Scan(&state, &recorded)
	if err != nil {
		return "", translate(err, "conversation "+f.ConversationID)
	}
	if !recorded {
		return "", parley.Errorf(parley.ENotFound, "message %d is not a bot answer of conversation %s", f.MessageID, f.ConversationID)
	}
	return state, nil
}

// AddMessage appends a message to a conversation of the workspace.
func (db *DB) AddMessage(ctx context.Context, m parley.NewMessage) (parley.Message, error) {
	return addMessage(ctx, db.pool, m, "")
}

// RecordCustomerMessage stores a customer's message, starting the
// conversation (with the channel, customer and language) when
// conversationID is empty; one statement either way.
//
// Its commit does not wait for the disk: the reply engine stores the answer
// or the escalation next, and the flush of that commit takes this one with
// it (the WAL is one stream, and this commit comes first), before the
// customer hears back. So an answer path costs one flush, not two. Only the
// message of a request that then failed can be lost, and only if PostgreSQL
// itself stops within wal_writer_delay (200 ms by default) of it.
func (db *DB) RecordCustomerMessage(ctx context.Context, cm parley.CustomerMessage) (parley.Conversation, parley.Message, error) {
	workspaceID, conversationID, text := cm.WorkspaceID, cm.ConversationID, cm.Text
	c := parley.Conversation{ID: conversationID, WorkspaceID: workspaceID, Channel: cm.Channel, Customer: cm.Customer, Language: cm.Language}
	m := parley.Message{Role: parley.RoleCustomer, Text: text}
	raw := metaOrEmpty(cm.Meta)
	var err error
	const unflushed = `set_config('synchronous_commit', 'off', true)`
	if conversationID != "" {
		err = db.withSettings(ctx, unflushed, addMessageSQL,
			[]any{workspaceID, conversationID, m.Role, text, raw, ""},
			func(br pgx.BatchResults) error { return br.QueryRow().Scan(&m.ID, &m.Meta, &m.CreatedAt) })
		return c, m, translate(err, "conversation "+conversationID)
	}
	cust, err := json.Marshal(cm.Customer)
	if err != nil {
		return c, m, fmt.Errorf("encode customer: %w", err)
	}
	err = db.withSettings(ctx, unflushed, `
		WITH c AS (
			INSERT INTO conversations (workspace_id, channel, customer, language)
			VALUES ($1, $2, $3, $4) RETURNING id, status, created_at, updated_at
		), m AS (
			INSERT INTO messages (workspace_id, conversation_id, role, text, meta)
			SELECT $1, c.id, $5, $6, $7 FROM c RETURNING id, meta, created_at
		)
		SELECT c.id, c.status, c.created_at, c.updated_at, m.id, m.meta, m.created_at FROM c, m`,
		[]any{workspaceID, cm.Channel, cust, cm.Language, m.Role, text, raw},
		func(br pgx.BatchResults) error {
			return br.QueryRow().Scan(&c.ID, &c.Status, &c.CreatedAt, &c.UpdatedAt, &m.ID, &m.Meta, &m.CreatedAt)
		})
	if err != nil {
		return c, m, fmt.Errorf("start conversation: %w", err)
	}
	return c, m, nil
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// addMessage appends a message and touches the conversation (setting its
// status too, unless status is empty) in one statement.
func addMessage(ctx context.Context, q rowQuerier, nm parley.NewMessage, status string) (parley.Message, error) {
	m := parley.Message{Role: nm.Role, Text: nm.Text}
	err := q.QueryRow(ctx, addMessageSQL, nm.WorkspaceID, nm.ConversationID, nm.Role, nm.Text, metaOrEmpty(nm.Meta), status).
		Scan(&m.ID, &m.Meta, &m.CreatedAt)
	if err != nil {
		return m, translate(err, "conversation "+nm.ConversationID)
	}
	return m, nil
}

// addMessageSQL appends a message ($1 workspace, $2 conversation, $3 role,
// $4 text, $5 meta) and touches the conversation, setting its status to $6
// unless $6 is empty. A customer writing to a resolved conversation
// reopens it with the bot.
const addMessageSQL = `
		WITH m AS (
			INSERT INTO messages (workspace_id, conversation_id, role, text, meta)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, meta, created_at
		), c AS (
			UPDATE conversations SET updated_at = now(), status = CASE
				WHEN $6 <> '' THEN $6
				WHEN $3 = 'customer' AND status = 'resolved' THEN 'bot'
				ELSE status END
			WHERE workspace_id = $1 AND id = $2
		)
		SELECT id, meta, created_at FROM m`

// metaOrEmpty is a message's meta as stored: {} when there is none.
func metaOrEmpty(meta json.RawMessage) []byte {
	if len(meta) == 0 {
		return []byte("{}")
	}
	return meta
}

// AnnounceQueueChange tells agents' live queues, on every replica, that the
// unresolved escalation of a conversation changed (parley.ChangeCreated,
// parley.ChangeMessage): on channel parley_queue, as migration 0018's
// triggers do for what agents write. The answer path calls it after its
// commit, and it does not wait for the disk: a transaction that notifies
// holds a lock serialising all such commits until its own is flushed, so
// notifying in the escalation's transaction would cap handoffs at one
// flush each. A conversation without an unresolved escalation announces
// nothing.
func (db *DB) AnnounceQueueChange(ctx context.Context, workspaceID, conversationID, change string) error {
	err := db.withSettings(ctx, `set_config('synchronous_commit', 'off', true)`, `
		SELECT pg_notify('`+queueChannel+`', json_build_object('workspace_id', e.workspace_id, 'escalation_id', e.id, 'change', $3::text)::text)
		FROM escalations e WHERE e.workspace_id = $1 AND e.conversation_id = $2 AND e.status <> 'resolved'`,
		[]any{workspaceID, conversationID, change}, func(br pgx.BatchResults) error {
			_, err := br.Exec()
			return err
		})
	if err != nil {
		return fmt.Errorf("announce %s in conversation %s: %w", change, conversationID, err)
	}
	return nil
}

// Escalate records an escalation, routed to a team and an agent, and the
// message that tells the customer, in one statement (escalateSQL), and puts
// the conversation in state waiting; when the workspace has a webhook, an
// escalation.created event goes into the outbox in the same statement. A
// conversation that already has an unresolved escalation gets no second
// one: the error is parley.ErrOpenEscalation and nothing is written.
func (db *DB) Escalate(ctx context.Context, e parley.NewEscalation) (parley.Escalation, parley.Message, error) {
	esc, msg, err := db.escalateRouted(ctx, e)
	if !errors.Is(err, pgx.ErrNoRows) {
		return esc, msg, err
	}
	// No team to route to yet: the default team is created on first use.
	_, err = db.pool.Exec(ctx, `INSERT INTO teams (workspace_id, name)
		SELECT w.id, `+defaultTeamSQL+` FROM workspaces w WHERE w.id = $1
		ON CONFLICT (workspace_id, name) DO NOTHING`, e.WorkspaceID)
	if err != nil {
		return esc, msg, fmt.Errorf("create default team: %w", err)
	}
	esc, msg, err = db.escalateRouted(ctx, e)
	if errors.Is(err, pgx.ErrNoRows) {
		return esc, msg, fmt.Errorf("escalate conversation %s: no team to route to", e.ConversationID)
	}
	return esc, msg, err
}

// escalateSQL is Escalate in one statement, one round trip on the answer
// path. It returns no row when there is no team to route to: no routing
// rule matches and the default team does not exist yet. The webhook event
// is a parley.EscalationEventV1 (version $8): the stored context without
// its own version, and what the statement decides (id, status, team,
// created_at, assignee).
const escalateSQL = `
	WITH team AS (` + routeSQL + `), agent AS (
		UPDATE agents SET last_assigned_at = clock_timestamp()
		WHERE id = (SELECT a.id FROM agents a, team
			WHERE a.workspace_id = $1 AND a.team_id = team.id AND a.active
			ORDER BY a.last_assigned_at NULLS FIRST, a.created_at LIMIT 1 FOR UPDATE OF a SKIP LOCKED)
		RETURNING id, name
	), esc AS (
		INSERT INTO escalations (workspace_id, conversation_id, reason, team_id, assignee_id, context)
		SELECT $1, $4, $5, team.id, (SELECT id FROM agent), $6 FROM team
		RETURNING id, status, created_at
	), msg AS (
		INSERT INTO messages (workspace_id, conversation_id, role, text, meta)
		SELECT $1, $4, 'bot', $7, jsonb_build_object('escalation_id', esc.id, 'reason', $5::text) FROM esc
		RETURNING id, meta, created_at
	), conv AS (
		UPDATE conversations SET status = 'waiting', updated_at = now()
		WHERE workspace_id = $1 AND id = $4 AND EXISTS (SELECT 1 FROM esc)
	), event AS (
		INSERT INTO outbox (workspace_id, event_type, payload)
		SELECT $1, 'escalation.created', jsonb_build_object('version', $8::int,
			'conversation_id', $4::uuid, 'reason', $5::text, 'context', $6::jsonb - 'version') || jsonb_strip_nulls(jsonb_build_object(
			'id', esc.id, 'status', esc.status, 'team', team.name, 'created_at', esc.created_at,
			'assignee', (SELECT id FROM agent), 'assignee_name', (SELECT name FROM agent)))
		FROM esc, team
		WHERE EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = $1)
	)
	SELECT esc.id, esc.status, esc.created_at, team.name, (SELECT id FROM agent), (SELECT name FROM agent),
		msg.id, msg.meta, msg.created_at
	FROM esc, team, msg`

func (db *DB) escalateRouted(ctx context.Context, e parley.NewEscalation) (parley.Escalation, parley.Message, error) {
	esc := parley.Escalation{ConversationID: e.ConversationID, Reason: e.Reason, Context: e.Context}
	msg := parley.Message{Role: parley.RoleBot, Text: e.CustomerNotice}
	ctxJSON, err := encodeContext(e.Context)
	if err != nil {
		return esc, msg, err
	}
	var assignee, assigneeName *string
	err = db.pool.QueryRow(ctx, escalateSQL, e.WorkspaceID, e.Intent, e.Tags, e.ConversationID, e.Reason,
		ctxJSON, e.CustomerNotice, parley.EscalationEventVersion).
		Scan(&esc.ID, &esc.Status, &esc.CreatedAt, &esc.Team, &assignee, &assigneeName, &msg.ID, &msg.Meta, &msg.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return esc, msg, err
	}
	if isUniqueViolation(err, "escalations_one_open") {
		return esc, msg, fmt.Errorf("escalate conversation %s: %w", e.ConversationID, parley.ErrOpenEscalation)
	}
	if err != nil {
		return esc, msg, translate(err, "conversation "+e.ConversationID)
	}
	if assignee != nil {
		esc.Assignee, esc.AssigneeName = *assignee, *assigneeName
	}
	return esc, msg, nil
}

// routeSQL picks the team ($1 workspace, $2 intent, $3 tags): the
// highest-priority rule matching the intent or a tag, else the workspace's
// default team if it exists.
const routeSQL = `
		SELECT id, name FROM (
			SELECT t.id, t.name, 0 AS class, r.priority, r.created_at
			FROM routing_rules r JOIN teams t ON t.id = r.team_id
			WHERE r.workspace_id = $1
				AND ((r.match_intent <> '' AND r.match_intent = $2) OR (r.match_tag <> '' AND r.match_tag = ANY($3)))
			UNION ALL
			SELECT t.id, t.name, 1, 0, t.created_at
			FROM teams t JOIN workspaces w ON w.id = t.workspace_id
			WHERE t.workspace_id = $1 AND t.name = ` + defaultTeamSQL + `
		) routes ORDER BY class, priority DESC, created_at LIMIT 1`

// defaultTeamSQL is the name of the default team of workspace w.
const defaultTeamSQL = `coalesce(nullif(w.settings->>'default_team', ''), 'support')`

// DeleteConversations deletes every conversation of a workspace with its
// messages and escalations, which go with it (ON DELETE CASCADE); the eval
// runner clears its own workspace.
func (db *DB) DeleteConversations(ctx context.Context, workspaceID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM conversations WHERE workspace_id = $1`, workspaceID); err != nil {
		return fmt.Errorf("delete conversations: %w", err)
	}
	return nil
}

// VacuumConversations vacuums and analyzes the tables the answer path
// writes. Benchmarks run it after clearing their workspace so that runs
// repeated on a database without autovacuum measure the same thing, not an
// ever more bloated table, and again once the workspace holds
// conversations, so that the planner's statistics are those of a table in
// use, as autovacuum keeps them, not of an empty one.
func (db *DB) VacuumConversations(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) conversations, messages, escalations, outbox`); err != nil {
		return fmt.Errorf("vacuum conversation tables: %w", err)
	}
	return nil
}
