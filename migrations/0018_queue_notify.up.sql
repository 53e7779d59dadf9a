-- Live queue for agents: changes of a workspace's escalations are announced
-- on channel parley_queue to every replica listening, as JSON
-- {"workspace_id", "escalation_id", "change"}: change is created, claimed or
-- resolved (the escalation's status), or message (the handed-off
-- conversation got a message).
--
-- These triggers announce what agents do, at commit: a claim, a resolution,
-- an agent's reply or note. Those transactions notify the widget's streams
-- already (migration 0007), notes aside. What the answer path writes (a new
-- escalation, a customer's message to a handed-off conversation) is
-- announced by the store after its commit, in a statement of its own that
-- does not wait for the disk: a notifying transaction holds a lock that
-- serialises commits until its own is flushed, which would cap handoffs at
-- one flush each (postgres.DB.announce).
CREATE FUNCTION notify_queue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    esc    uuid;
    change text;
BEGIN
    IF TG_TABLE_NAME = 'escalations' THEN
        esc := NEW.id;
        change := NEW.status;
    ELSE
        SELECT e.id INTO esc FROM escalations e
        WHERE e.conversation_id = NEW.conversation_id AND e.status <> 'resolved';
        IF esc IS NULL THEN
            RETURN NULL;
        END IF;
        change := 'message';
    END IF;
    PERFORM pg_notify('parley_queue', json_build_object(
        'workspace_id', NEW.workspace_id, 'escalation_id', esc, 'change', change)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER escalations_queue_status AFTER UPDATE OF status ON escalations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_queue();
CREATE TRIGGER messages_queue_agent AFTER INSERT ON messages FOR EACH ROW
    WHEN (NEW.role = 'agent')
    EXECUTE FUNCTION notify_queue();
