-- Live queue for agents: changes of a workspace's escalations are announced
-- on channel parley_queue, at commit, to every replica listening, as JSON
-- {"workspace_id", "escalation_id", "change"}: change is created, claimed or
-- resolved (the escalation's status), or message (the handed-off
-- conversation got a message: the customer's, an agent's reply or note).
-- The answer path notifies only when it escalates or stores a message of a
-- conversation already handed off: bot answers stay free of NOTIFY, whose
-- commits PostgreSQL serialises.
CREATE FUNCTION notify_queue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    esc    uuid;
    change text;
BEGIN
    IF TG_TABLE_NAME = 'escalations' THEN
        esc := NEW.id;
        change := CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE NEW.status END;
    ELSE
        SELECT e.id INTO esc FROM escalations e
        WHERE e.conversation_id = NEW.id AND e.status <> 'resolved';
        IF esc IS NULL THEN
            RETURN NULL;
        END IF;
        change := 'message';
    END IF;
    PERFORM pg_notify('parley_queue', json_build_object(
        'workspace_id', NEW.workspace_id, 'escalation_id', esc, 'change', change)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER escalations_queue_created AFTER INSERT ON escalations FOR EACH ROW
    EXECUTE FUNCTION notify_queue();
CREATE TRIGGER escalations_queue_status AFTER UPDATE OF status ON escalations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_queue();
-- Every message touches its conversation; a claim or a resolution, which
-- change the state, are announced by the escalation.
CREATE TRIGGER conversations_queue_message AFTER UPDATE ON conversations FOR EACH ROW
    WHEN (OLD.status IN ('waiting', 'agent') AND NEW.status = OLD.status)
    EXECUTE FUNCTION notify_queue();
