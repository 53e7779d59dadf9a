-- Analytics: per-day counts of what happened in a workspace, by event time
-- (UTC days). A day is rolled up into analytics_days once it is over (plus a
-- margin for transactions still committing), the first time a summary asks
-- for it; analytics_days_done records which days are, so a day with nothing
-- in it is not counted again. Days not yet over are counted live.
CREATE TABLE analytics_days (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day          date NOT NULL,
    metric       text NOT NULL,
    key          text NOT NULL DEFAULT '',
    n            bigint NOT NULL,
    PRIMARY KEY (workspace_id, day, metric, key)
);

CREATE TABLE analytics_days_done (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day          date NOT NULL,
    PRIMARY KEY (workspace_id, day)
);

-- What the counting reads, by time; the escalation indexes carry the
-- columns counted, so that counting reads no table rows (and never the
-- large context packets).
CREATE INDEX conversations_created ON conversations (workspace_id, created_at);
CREATE INDEX messages_bot_created ON messages (workspace_id, created_at) WHERE role = 'bot';
CREATE INDEX messages_agent_conversation ON messages (conversation_id, created_at) WHERE role = 'agent' AND NOT internal;
CREATE INDEX messages_agent_created ON messages (workspace_id, created_at) WHERE role = 'agent' AND NOT internal;
CREATE INDEX escalations_created ON escalations (workspace_id, created_at)
    INCLUDE (conversation_id, reason, team_id);
CREATE INDEX escalations_resolved_times ON escalations (workspace_id, resolved_at)
    INCLUDE (created_at) WHERE status = 'resolved';
