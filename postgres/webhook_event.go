package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// escalationEvent is the data of an escalation webhook event for e, built
// field by field from the API's shape (parley.EscalationEventV1 is the
// wire format). escalateSQL builds the escalation.created event's in SQL,
// from the stored context, to the same shape.
func escalationEvent(e parley.Escalation) (parley.EscalationEventV1, error) {
	c := e.Context
	var candidates []parley.EscalationEventCandidate
	if len(c.Candidates) > 0 {
		if err := json.Unmarshal(c.Candidates, &candidates); err != nil {
			return parley.EscalationEventV1{}, fmt.Errorf("read the candidates of escalation %s: %w", e.ID, err)
		}
	}
	ev := parley.EscalationEventV1{
		Version:        parley.EscalationEventVersion,
		ID:             e.ID,
		ConversationID: e.ConversationID,
		Reason:         e.Reason,
		Status:         e.Status,
		Team:           e.Team,
		Assignee:       e.Assignee,
		AssigneeName:   e.AssigneeName,
		Context: parley.EscalationEventContext{
			Question: c.Question,
			Language: c.Language,
			Customer: parley.EscalationEventCustomer{
				ID: c.Customer.ID, Name: c.Customer.Name, Email: c.Customer.Email,
				Language: c.Customer.Language, Properties: c.Customer.Properties,
			},
			Channel:    c.Channel,
			Candidates: candidates,
			Confidence: c.Confidence,
			Draft:      c.Draft,
			Explain:    c.Explain,
			Summary:    c.Summary,
		},
		Resolution: e.Resolution,
		CreatedAt:  e.CreatedAt,
		ClaimedAt:  e.ClaimedAt,
		ResolvedAt: e.ResolvedAt,
	}
	if c.Transcript != nil {
		ev.Context.Transcript = make([]parley.EscalationEventMessage, len(c.Transcript))
	}
	for i, m := range c.Transcript {
		//lint:ignore S1016 field by field on purpose: a conversion would make the wire type follow parley.Message
		ev.Context.Transcript[i] = parley.EscalationEventMessage{ID: m.ID, Role: m.Role, Text: m.Text,
			Internal: m.Internal, Helpful: m.Helpful, Meta: m.Meta, CreatedAt: m.CreatedAt}
	}
	return ev, nil
}

// enqueueEvent writes a webhook event about e to the outbox when the
// workspace has a webhook; the delivery worker sends it.
func enqueueEvent(ctx context.Context, tx pgx.Tx, workspaceID, eventType string, e parley.Escalation) error {
	ev, err := escalationEvent(e)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", eventType, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (workspace_id, event_type, payload)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = $1)`,
		workspaceID, eventType, payload)
	if err != nil {
		return fmt.Errorf("enqueue %s event: %w", eventType, err)
	}
	return nil
}
