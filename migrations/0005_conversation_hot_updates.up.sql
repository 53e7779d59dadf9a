-- Every message touches its conversation (updated_at, and status on an
-- escalation or a resolution). No query reads conversations by workspace in
-- updated_at order, so the index on (workspace_id, updated_at) only made each
-- of those updates write index entries, and kept them from being HOT
-- (heap-only) updates. Lookups by workspace use the (workspace_id, id)
-- unique index.
DROP INDEX conversations_workspace;
