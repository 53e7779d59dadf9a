-- Where a knowledge base's sources come from, to sync them again: a
-- website's start URL and crawl settings, the pages the last crawl read
-- (validators for conditional requests), and the outcome of the last sync.
-- sync_every_seconds > 0 schedules a sync every that many seconds.
CREATE TABLE kb_origins (
    kb_id              uuid PRIMARY KEY,
    workspace_id       uuid NOT NULL,
    url                text NOT NULL,
    settings           jsonb NOT NULL DEFAULT '{}',
    sync_every_seconds bigint NOT NULL DEFAULT 0 CHECK (sync_every_seconds >= 0),
    pages              jsonb NOT NULL DEFAULT '{}',
    sync_state         text NOT NULL DEFAULT '' CHECK (sync_state IN ('', 'queued', 'running', 'succeeded', 'failed')),
    sync_error         text NOT NULL DEFAULT '',
    sync_report        jsonb,
    synced_at          timestamptz,
    next_sync_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, kb_id) REFERENCES knowledge_bases (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_origins_due ON kb_origins (next_sync_at) WHERE next_sync_at IS NOT NULL;
