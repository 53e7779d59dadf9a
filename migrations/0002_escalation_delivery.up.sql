-- Escalation workflow and webhook delivery.

-- An outbox row that failed its last allowed attempt is dead: kept for
-- inspection, never sent again. The due index covers only live rows.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_undelivered ON outbox (workspace_id) WHERE delivered_at IS NULL;

ALTER TABLE webhooks ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Team and agent deletion look up the escalations that refer to them; the
-- resolved-conversation export pages by resolution time.
CREATE INDEX escalations_team ON escalations (team_id);
CREATE INDEX escalations_assignee ON escalations (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX escalations_conversation ON escalations (conversation_id);
CREATE INDEX escalations_resolved ON escalations (workspace_id, resolved_at) WHERE status = 'resolved';
