-- Conversation lifecycle, agent messages, feedback and the widget channel.

-- A conversation is with the bot, waiting for a person (handed off, the bot
-- silent), with an agent (claimed), or resolved. Old states map over.
ALTER TABLE conversations DROP CONSTRAINT conversations_status_check;
UPDATE conversations c SET status = CASE
    WHEN c.status = 'open' THEN 'bot'
    WHEN c.status = 'escalated' AND EXISTS (SELECT FROM escalations e
        WHERE e.conversation_id = c.id AND e.status = 'claimed') THEN 'agent'
    WHEN c.status = 'escalated' THEN 'waiting'
    ELSE c.status END;
ALTER TABLE conversations ALTER COLUMN status SET DEFAULT 'bot';
ALTER TABLE conversations ADD CONSTRAINT conversations_status_check
    CHECK (status IN ('bot', 'waiting', 'agent', 'resolved'));

-- The widget's visitor a conversation belongs to ('' for conversations
-- started through the server API). Neither column is ever updated, so
-- updates of the conversation stay HOT.
ALTER TABLE conversations ADD COLUMN visitor_id text NOT NULL DEFAULT '';
CREATE INDEX conversations_visitor ON conversations (workspace_id, visitor_id, created_at)
    WHERE visitor_id <> '';

-- At most one unresolved escalation per conversation. Older duplicates of
-- earlier versions are closed (the newest stays) before the index is built.
UPDATE escalations e SET status = 'resolved', resolved_at = now()
WHERE e.status <> 'resolved' AND EXISTS (SELECT FROM escalations later
    WHERE later.conversation_id = e.conversation_id AND later.status <> 'resolved'
        AND (later.created_at, later.id) > (e.created_at, e.id));
CREATE UNIQUE INDEX escalations_one_open ON escalations (conversation_id) WHERE status <> 'resolved';

-- A customer who marks an answer unhelpful can ask for a person.
ALTER TABLE escalations DROP CONSTRAINT escalations_reason_check;
ALTER TABLE escalations ADD CONSTRAINT escalations_reason_check CHECK (reason IN
    ('low_confidence', 'no_match', 'human_requested', 'repeat', 'sensitive', 'model_error', 'unhelpful'));

-- Agents' internal notes: part of the conversation for agents, never shown
-- to the customer.
ALTER TABLE messages ADD COLUMN internal boolean NOT NULL DEFAULT false;

-- The customer's verdict on a bot answer; the latest one counts.
CREATE TABLE feedback (
    message_id      bigint PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    workspace_id    uuid NOT NULL,
    conversation_id uuid NOT NULL,
    helpful         boolean NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX feedback_workspace ON feedback (workspace_id, created_at);
CREATE INDEX feedback_conversation ON feedback (conversation_id);

-- Publishable widget keys name the web origins that may use them; CORS
-- preflights (which carry no key) look an origin up among them.
ALTER TABLE api_keys ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}';
CREATE INDEX api_keys_origins ON api_keys USING gin (allowed_origins)
    WHERE role = 'widget' AND revoked_at IS NULL;

-- identity_secret signs customer ids on the customer's site (HMAC identity
-- verification; '' = not set up); visitor_key signs the visitor tokens
-- Parley issues, made on first use and shared by every replica.
ALTER TABLE workspaces ADD COLUMN identity_secret text NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN visitor_key bytea;

-- Live delivery: what a visitor must hear about from someone else (an
-- agent's or a system message, a claim, a resolution) is announced on
-- channel parley_conversation with the conversation id, at commit, to every
-- replica listening. What the visitor's own request caused (a bot answer, a
-- handoff, a reopening) is not: the visitor gets it in the response, and
-- the answer path stays free of NOTIFY, whose commits PostgreSQL
-- serialises.
CREATE FUNCTION notify_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'messages' THEN
        PERFORM pg_notify('parley_conversation', NEW.conversation_id::text);
    ELSE
        PERFORM pg_notify('parley_conversation', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_notify AFTER INSERT ON messages FOR EACH ROW
    WHEN (NOT NEW.internal AND NEW.role IN ('agent', 'system'))
    EXECUTE FUNCTION notify_conversation();
CREATE TRIGGER conversations_notify AFTER UPDATE OF status ON conversations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('agent', 'resolved'))
    EXECUTE FUNCTION notify_conversation();
