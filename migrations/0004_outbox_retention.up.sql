-- Outbox retention (postgres.DeleteExpiredOutboxEvents) deletes events
-- delivered, or given up, long enough ago, in small batches. Most of the
-- table is events delivered recently; these indexes let each batch find its
-- rows without reading them all. Both are partial: events not yet delivered
-- are not in them.
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL;
