-- Console sign-ins: an agent or admin key exchanged for a session cookie.
-- Only a SHA-256 hash of the session token is stored. A session ends when it
-- has been idle too long or is too old (both checked on every use, limits
-- set by the server), when it is signed out, or when its key is revoked or
-- deleted (the key is joined on every use; deleting it deletes the session).
CREATE TABLE console_sessions (
    token_hash   bytea PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key_id       uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- A workspace's expired sessions are swept at each sign-in to it.
CREATE INDEX console_sessions_workspace ON console_sessions (workspace_id, last_seen_at);
CREATE INDEX console_sessions_key ON console_sessions (key_id);
