package webhook

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
		n, err := d.deleteExpired(ctx)
		if n > 0 {
			d.log.InfoContext(ctx, "deleted expired webhook events", "deleted", n,
				"retention", d.opts.Retention.String(), "dead_retention", d.opts.DeadRetention.String())
		}
		if err != nil {
			d.log.ErrorContext(ctx, "delete expired webhook events", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// cleanupRoundMax bounds one clean-up round once the Deliverer is stopped.
const cleanupRoundMax = 10 * time.Second

// deleteExpired runs one clean-up round. A round that has begun is not
// cancelled when the Deliverer stops (only bounded by cleanupRoundMax):
// a statement cancelled as it commits would delete rows without saying how
// many.
func (d *Deliverer) deleteExpired(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupRoundMax)
	defer cancel()
	return d.store.DeleteExpiredOutboxEvents(ctx, d.opts.Retention, d.opts.DeadRetention, cleanupBatch)
}
