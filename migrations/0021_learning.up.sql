-- Learning from resolutions: the knowledge the resolving agent said
-- answered (or none) is kept with the escalation; the customer's question,
-- masked, becomes a phrasing of that answer, pending review or approved,
-- and once added a source of kind 'phrasing' in the learned knowledge base
-- whose one chunk joins the answer's group.
ALTER TABLE escalations ADD COLUMN answered_by jsonb;

ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check CHECK (kind IN ('faq', 'article', 'conversation', 'phrasing'));

CREATE TABLE phrasings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id    uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    escalation_id   uuid REFERENCES escalations(id) ON DELETE SET NULL,
    group_key       text NOT NULL,
    source_id       bigint,
    text            text NOT NULL,
    normalized      text NOT NULL,
    language        text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'added', 'rejected')),
    added_source_id bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz,
    -- A group learns a phrasing once: asked again, or rejected before, it
    -- is a duplicate.
    UNIQUE (workspace_id, group_key, normalized)
);
CREATE INDEX phrasings_queue ON phrasings (workspace_id, status, created_at, id);
