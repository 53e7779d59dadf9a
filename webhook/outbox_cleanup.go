package webhook

import "context"

// cleanupBatch is how many outbox rows one statement deletes: few enough
// that it holds its locks only briefly.
const cleanupBatch = 1000

// DeleteExpired deletes the events delivered more than Retention ago and
// those given up more than DeadRetention ago, and returns how many. `parley
// serve` runs it periodically, and lets a round that has begun finish: a
// statement cancelled as it commits would delete rows without saying how
// many.
func (d *Deliverer) DeleteExpired(ctx context.Context) (int, error) {
	return d.store.DeleteExpiredOutboxEvents(ctx, d.opts.Retention, d.opts.DeadRetention, cleanupBatch)
}
