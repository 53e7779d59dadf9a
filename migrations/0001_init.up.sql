-- Parley schema. Every table carries workspace_id and every query filters by it.
-- The vector extension lives in schema public (created by scripts/db-setup.sh
-- or by a superuser); tables are created in the first schema of search_path.

CREATE TABLE workspaces (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('widget', 'agent', 'admin')),
    prefix       text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE knowledge_bases (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name),
    UNIQUE (workspace_id, id)
);

CREATE TABLE sources (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id uuid NOT NULL,
    kb_id        uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('faq', 'article', 'conversation')),
    external_id  text NOT NULL,
    title        text NOT NULL DEFAULT '',
    url          text NOT NULL DEFAULT '',
    language     text NOT NULL DEFAULT '',
    intent       text NOT NULL DEFAULT '',
    tags         text[] NOT NULL DEFAULT '{}',
    content_hash text NOT NULL,
    chunk_count  int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, kb_id) REFERENCES knowledge_bases (workspace_id, id) ON DELETE CASCADE,
    UNIQUE (kb_id, external_id)
);
CREATE INDEX sources_workspace ON sources (workspace_id, kb_id);

-- chunks.embedding is an untyped vector: its dimensions depend on the
-- embedding model, recorded in embed_model. One HNSW expression index per
-- model, with the model as partial predicate, is created by the application
-- when it first uses a model (see postgres.EnsureVectorIndex).
CREATE TABLE chunks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id uuid NOT NULL,
    source_id    bigint NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal      int NOT NULL,
    text         text NOT NULL,
    answer       text NOT NULL DEFAULT '',
    section_path text NOT NULL DEFAULT '',
    tokens       int NOT NULL DEFAULT 0,
    group_key    text NOT NULL,
    embed_model  text NOT NULL,
    embedding    public.vector NOT NULL,
    tsv          tsvector NOT NULL
);
CREATE INDEX chunks_source ON chunks (source_id);
CREATE INDEX chunks_workspace_model ON chunks (workspace_id, embed_model);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

CREATE TABLE ingest_jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kb_id        uuid NOT NULL,
    state        text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    counts       jsonb NOT NULL DEFAULT '{}',
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_jobs_workspace ON ingest_jobs (workspace_id, created_at DESC);

CREATE TABLE conversations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel      text NOT NULL DEFAULT '',
    customer     jsonb NOT NULL DEFAULT '{}',
    language     text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'resolved')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, id)
);
CREATE INDEX conversations_workspace ON conversations (workspace_id, updated_at DESC);

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    uuid NOT NULL,
    conversation_id uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('customer', 'bot', 'agent', 'system')),
    text            text NOT NULL,
    meta            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE teams (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name),
    UNIQUE (workspace_id, id)
);

CREATE TABLE agents (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id     uuid NOT NULL,
    team_id          uuid NOT NULL,
    name             text NOT NULL,
    email            text NOT NULL DEFAULT '',
    skills           text[] NOT NULL DEFAULT '{}',
    active           boolean NOT NULL DEFAULT true,
    last_assigned_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE,
    UNIQUE (workspace_id, id)
);
CREATE INDEX agents_team ON agents (team_id);

CREATE TABLE routing_rules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL,
    team_id      uuid NOT NULL,
    match_intent text NOT NULL DEFAULT '',
    match_tag    text NOT NULL DEFAULT '',
    priority     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE,
    CHECK (match_intent <> '' OR match_tag <> '')
);
CREATE INDEX routing_rules_workspace ON routing_rules (workspace_id, priority DESC);

CREATE TABLE escalations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id    uuid NOT NULL,
    conversation_id uuid NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('low_confidence', 'no_match', 'human_requested', 'repeat', 'sensitive', 'model_error')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved')),
    team_id         uuid,
    assignee_id     uuid,
    context         jsonb NOT NULL,
    resolution      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    resolved_at     timestamptz,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id),
    FOREIGN KEY (workspace_id, assignee_id) REFERENCES agents (workspace_id, id)
);
CREATE INDEX escalations_queue ON escalations (workspace_id, status, created_at);

CREATE TABLE webhooks (
    workspace_id uuid PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    url          text NOT NULL,
    secret       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Webhook deliveries: written in the same transaction as the event, sent by
-- a background worker, retried with backoff until delivered.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    event_id        uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
