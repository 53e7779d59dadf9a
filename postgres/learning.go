package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// answeredKnowledge finds the knowledge an agent named in the workspace.
// Knowledge that is not there, or is another workspace's, is invalid
// input: it is named in a request body.
func answeredKnowledge(ctx context.Context, q querier, workspaceID string, a parley.AnsweredBy) (*parley.AnsweredKnowledge, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.None {
		return &parley.AnsweredKnowledge{None: true}, nil
	}
	k := &parley.AnsweredKnowledge{}
	var err error
	switch {
	case a.Group != "":
		err = q.QueryRow(ctx, `SELECT c.group_key, s.id, s.external_id, s.title, s.intent, s.tags
			FROM chunks c JOIN sources s ON s.id = c.source_id
			WHERE c.workspace_id = $1 AND c.group_key = $2
			ORDER BY s.kind = 'phrasing', c.answer = '', c.id LIMIT 1`, workspaceID, a.Group).
			Scan(&k.Group, &k.SourceID, &k.ExternalID, &k.Title, &k.Intent, &k.Tags)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, parley.Errorf(parley.EInvalid, "answered_by: answer group %q is not in this workspace's knowledge", a.Group)
		}
	default:
		err = q.QueryRow(ctx, `SELECT c.group_key, s.id, c.id, s.external_id, s.title, s.intent, s.tags
			FROM sources s JOIN chunks c ON c.source_id = s.id
			WHERE s.workspace_id = $1 AND s.id = $2 AND ($3 = 0 OR c.id = $3)
			ORDER BY c.ordinal LIMIT 1`, workspaceID, a.SourceID, a.ChunkID).
			Scan(&k.Group, &k.SourceID, &k.ChunkID, &k.ExternalID, &k.Title, &k.Intent, &k.Tags)
		if a.ChunkID == 0 {
			k.ChunkID = 0
		}
		if errors.Is(err, pgx.ErrNoRows) {
			if a.ChunkID != 0 {
				return nil, parley.Errorf(parley.EInvalid, "answered_by: chunk %d of source %d is not in this workspace's knowledge", a.ChunkID, a.SourceID)
			}
			return nil, parley.Errorf(parley.EInvalid, "answered_by: source %d is not in this workspace's knowledge", a.SourceID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("find the knowledge named in answered_by: %w", err)
	}
	return k, nil
}

// lastAnsweredBy is what the agent's latest reply in the handoff of
// escalation esc named as its knowledge, or nil.
func lastAnsweredBy(ctx context.Context, tx pgx.Tx, workspaceID string, esc parley.Escalation) (*parley.AnsweredKnowledge, error) {
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT m.meta->'answered_by' FROM messages m
		WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.role = 'agent' AND NOT m.internal
			AND m.created_at >= $3 AND m.meta ? 'answered_by'
		ORDER BY m.id DESC LIMIT 1`, workspaceID, esc.ConversationID, esc.CreatedAt).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the knowledge the last reply named: %w", err)
	}
	var k parley.AnsweredKnowledge
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("decode the knowledge the last reply named: %w", err)
	}
	return &k, nil
}

// AnswerGroup returns one answer group of the workspace's knowledge: its
// chunk texts, the answer it shows, and the source a new phrasing of it
// cites (its first non-learned source with an answer).
func (db *DB) AnswerGroup(ctx context.Context, workspaceID, group string) (parley.AnswerGroup, error) {
	g := parley.AnswerGroup{Key: group}
	err := db.pool.QueryRow(ctx, `SELECT c.answer, s.id, s.title, s.url, s.intent, s.tags, s.language
		FROM chunks c JOIN sources s ON s.id = c.source_id
		WHERE c.workspace_id = $1 AND c.group_key = $2
		ORDER BY s.kind = 'phrasing', c.answer = '', c.id LIMIT 1`, workspaceID, group).
		Scan(&g.Answer, &g.SourceID, &g.Title, &g.URL, &g.Intent, &g.Tags, &g.Language)
	if err != nil {
		return g, translate(err, fmt.Sprintf("answer group %q", group))
	}
	rows, err := db.pool.Query(ctx, `SELECT text FROM chunks WHERE workspace_id = $1 AND group_key = $2`, workspaceID, group)
	if err == nil {
		g.Texts, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return g, fmt.Errorf("read the texts of answer group %q: %w", group, err)
	}
	return g, nil
}

const phrasingColumns = `id, workspace_id, coalesce(escalation_id::text, ''), group_key, coalesce(source_id, 0), text, normalized,
	language, status, coalesce(added_source_id, 0), created_at, decided_at`

func scanPhrasing(r pgx.CollectableRow) (parley.Phrasing, error) {
	var p parley.Phrasing
	err := r.Scan(&p.ID, &p.WorkspaceID, &p.EscalationID, &p.Group, &p.SourceID, &p.Text, &p.Normalized,
		&p.Language, &p.Status, &p.AddedSource, &p.CreatedAt, &p.DecidedAt)
	return p, err
}

// AddPhrasing stores a learned phrasing (status pending or approved). A
// phrasing its group already has (same normalized text, whatever its
// status) is not stored again: dup is true.
func (db *DB) AddPhrasing(ctx context.Context, p parley.Phrasing) (stored parley.Phrasing, dup bool, err error) {
	var escalationID *string
	if p.EscalationID != "" {
		escalationID = &p.EscalationID
	}
	var sourceID *int64
	if p.SourceID != 0 {
		sourceID = &p.SourceID
	}
	rows, err := db.pool.Query(ctx, `INSERT INTO phrasings (workspace_id, escalation_id, group_key, source_id, text, normalized, language, status, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8 = 'approved' THEN now() END)
		ON CONFLICT (workspace_id, group_key, normalized) DO NOTHING
		RETURNING `+phrasingColumns, p.WorkspaceID, escalationID, p.Group, sourceID, p.Text, p.Normalized, p.Language, p.Status)
	if err != nil {
		return p, false, fmt.Errorf("store phrasing: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPhrasing)
	if err != nil {
		return p, false, fmt.Errorf("store phrasing: %w", err)
	}
	if len(list) == 0 {
		return p, true, nil
	}
	return list[0], false, nil
}

// ListPhrasings returns a page of the workspace's phrasings, oldest
// first, and the cursor of the next page ("" on the last).
func (db *DB) ListPhrasings(ctx context.Context, workspaceID string, f parley.PhrasingFilter) ([]parley.Phrasing, string, error) {
	switch f.Status {
	case "", parley.PhrasingPending, parley.PhrasingApproved, parley.PhrasingAdded, parley.PhrasingRejected:
	default:
		return nil, "", parley.Errorf(parley.EInvalid, "status must be pending, approved, added or rejected, got %q", f.Status)
	}
	afterAt, afterID, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	f.Limit = max(f.Limit, 1)
	rows, err := db.pool.Query(ctx, `SELECT `+phrasingColumns+` FROM phrasings
		WHERE workspace_id = $1 AND ($2 = '' OR status = $2)
			AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
		ORDER BY created_at, id LIMIT $5`, workspaceID, f.Status, afterAt, afterID, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list phrasings: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPhrasing)
	if err != nil {
		return nil, "", fmt.Errorf("list phrasings: %w", err)
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	return list, next, nil
}

// DecidePhrasing approves or rejects a pending phrasing; one already
// decided is a conflict.
func (db *DB) DecidePhrasing(ctx context.Context, workspaceID, id string, approve bool) (parley.Phrasing, error) {
	if !parley.IsID(id) {
		return parley.Phrasing{}, parley.Errorf(parley.ENotFound, "phrasing %q not found", id)
	}
	status := parley.PhrasingRejected
	if approve {
		status = parley.PhrasingApproved
	}
	rows, err := db.pool.Query(ctx, `UPDATE phrasings SET status = $3, decided_at = now()
		WHERE workspace_id = $1 AND id = $2 AND status = 'pending' RETURNING `+phrasingColumns, workspaceID, id, status)
	if err != nil {
		return parley.Phrasing{}, fmt.Errorf("decide phrasing %s: %w", id, err)
	}
	list, err := pgx.CollectRows(rows, scanPhrasing)
	if err != nil {
		return parley.Phrasing{}, fmt.Errorf("decide phrasing %s: %w", id, err)
	}
	if len(list) == 1 {
		return list[0], nil
	}
	var cur string
	err = db.pool.QueryRow(ctx, `SELECT status FROM phrasings WHERE workspace_id = $1 AND id = $2`, workspaceID, id).Scan(&cur)
	if err != nil {
		return parley.Phrasing{}, translate(err, fmt.Sprintf("phrasing %q", id))
	}
	return parley.Phrasing{}, parley.Errorf(parley.EConflict, "phrasing %s is already %s", id, cur)
}

// ApprovedPhrasings returns up to limit approved phrasings not yet added
// to knowledge, oldest first.
func (db *DB) ApprovedPhrasings(ctx context.Context, workspaceID string, limit int) ([]parley.Phrasing, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+phrasingColumns+` FROM phrasings
		WHERE workspace_id = $1 AND status = 'approved' ORDER BY created_at, id LIMIT $2`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list approved phrasings: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPhrasing)
	if err != nil {
		return nil, fmt.Errorf("list approved phrasings: %w", err)
	}
	return list, nil
}

// MarkPhrasingsAdded records that the approved phrasings ids are sources
// of knowledge base kbID now, under the external ids externalIDs (same
// order), and returns the source id of each phrasing marked. Phrasings no
// longer approved are left as they are.
func (db *DB) MarkPhrasingsAdded(ctx context.Context, workspaceID, kbID string, ids, externalIDs []string) (map[string]int64, error) {
	rows, err := db.pool.Query(ctx, `UPDATE phrasings p SET status = 'added', added_source_id = s.id
		FROM unnest($3::uuid[], $4::text[]) AS x(id, external_id)
		JOIN sources s ON s.kb_id = $2 AND s.external_id = x.external_id
		WHERE p.workspace_id = $1 AND p.id = x.id AND p.status = 'approved'
		RETURNING p.id, s.id`, workspaceID, kbID, ids, externalIDs)
	added := map[string]int64{}
	if err == nil {
		for rows.Next() {
			var (
				id  string
				src int64
			)
			if err = rows.Scan(&id, &src); err != nil {
				break
			}
			added[id] = src
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mark %d phrasings added: %w", len(ids), err)
	}
	return added, nil
}
