package reply

import (
	"context"
	"time"
)

// cleanupBatch is how many outbox rows one statement deletes: few enough
// that it holds its locks only briefly.
const cleanupBatch = 1000

// cleanUp deletes expired outbox events now and every CleanupInterval
// until ctx is done.
func (d *Deliverer) cleanUp(ctx context.Context) {
	ticker := time.NewTicker(d.opts.CleanupInterval)
	defer ticker.Stop()
	for {
		// What was deleted is said even when the Deliverer is being stopped.
		n, err := d.store.DeleteExpiredOutboxEvents(ctx, d.opts.Retention, d.opts.DeadRetention, cleanupBatch)
		if n > 0 {
			d.log.InfoContext(ctx, "deleted expired webhook events", "deleted", n,
				"retention", d.opts.Retention.String(), "dead_retention", d.opts.DeadRetention.String())
		}
		if err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "delete expired webhook events", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
