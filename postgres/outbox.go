package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// Limits of a webhook.
const (
	MinWebhookSecret = 16
	maxWebhookSecret = 256
	// generatedSecretPrefix starts generated secrets, as prly_ starts keys.
	generatedSecretPrefix = "whsec_"
)

// PutWebhook sets the workspace's webhook, replacing any. An empty secret
// is replaced by a generated one, returned here and never again.
func (db *DB) PutWebhook(ctx context.Context, workspaceID, rawURL, secret string) (parley.Webhook, string, error) {
	var w parley.Webhook
	if _, err := parley.ParseWebhookURL(rawURL); err != nil {
		return w, "", err
	}
	generated := ""
	switch n := utf8.RuneCountInString(secret); {
	case secret == "":
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return w, "", fmt.Errorf("generate webhook secret: %w", err)
		}
		secret = generatedSecretPrefix + base64.RawURLEncoding.EncodeToString(raw)
		generated = secret
	case n < MinWebhookSecret || len(secret) > maxWebhookSecret:
		return w, "", parley.Errorf(parley.EInvalid, "secret must have %d to %d characters (omit it to have one generated)", MinWebhookSecret, maxWebhookSecret)
	}
	err := db.pool.QueryRow(ctx, `INSERT INTO webhooks (workspace_id, url, secret) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, updated_at = now()
		RETURNING url, created_at, updated_at`, workspaceID, rawURL, secret).Scan(&w.URL, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return w, "", translate(err, "webhook")
	}
	w.SecretPrefix = secretPrefix(secret)
	if err := db.countEvents(ctx, workspaceID, &w); err != nil {
		return w, "", err
	}
	return w, generated, nil
}

// Webhook returns the workspace's webhook with its event counts.
func (db *DB) Webhook(ctx context.Context, workspaceID string) (parley.Webhook, error) {
	var (
		w      parley.Webhook
		secret string
	)
	err := db.pool.QueryRow(ctx, `SELECT url, secret, created_at, updated_at FROM webhooks WHERE workspace_id = $1`,
		workspaceID).Scan(&w.URL, &secret, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return w, translate(err, "webhook")
	}
	w.SecretPrefix = secretPrefix(secret)
	return w, db.countEvents(ctx, workspaceID, &w)
}

// DeleteWebhook removes the workspace's webhook and drops its undelivered
// events: no more events are recorded until a webhook is set again.
func (db *DB) DeleteWebhook(ctx context.Context, workspaceID string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE workspace_id = $1`, workspaceID)
		if err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENotFound, "webhook not found: this workspace has none")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE workspace_id = $1 AND delivered_at IS NULL`, workspaceID); err != nil {
			return fmt.Errorf("drop undelivered events: %w", err)
		}
		return nil
	})
}

func (db *DB) countEvents(ctx context.Context, workspaceID string, w *parley.Webhook) error {
	err := db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE dead_at IS NULL), count(*) FILTER (WHERE dead_at IS NOT NULL)
		FROM outbox WHERE workspace_id = $1 AND delivered_at IS NULL`, workspaceID).Scan(&w.Pending, &w.Dead)
	if err != nil {
		return fmt.Errorf("count webhook events: %w", err)
	}
	return nil
}

// secretPrefix shows a few characters of a secret: enough to tell two
// apart, too few to matter.
func secretPrefix(secret string) string {
	n := 4
	if strings.HasPrefix(secret, generatedSecretPrefix) {
		n += len(generatedSecretPrefix)
	}
	if len(secret) < n {
		return ""
	}
	return secret[:n]
}

// maxErrorChars bounds the last_error kept on an outbox row.
const maxErrorChars = 500

// Claiming deliveries: the design.
//
// ClaimDeliveries takes due rows (not delivered, not dead,
// next_attempt_at <= now()) with FOR UPDATE SKIP LOCKED, so workers on
// several replicas never take the same rows, and in the same statement
// counts the attempt and pushes next_attempt_at forward by the lease. The
// statement commits at once: no transaction or connection is held while
// the HTTP request runs. The lease is what keeps other workers off a row
// being sent; if the worker dies, the row becomes due again when the lease
// runs out, so deliveries survive crashes and restarts without any state
// outside the table. The worker then records the outcome: MarkDelivered,
// MarkFailed (retry later, or dead after the last attempt) or, when it is
// stopped mid-request, ReleaseDelivery (due again now). Outcomes other than
// success are fenced by the attempt number, so a worker whose lease ran
// out cannot undo a newer claim. Delivery is therefore at least once: a
// receiver deduplicates by event id.
//
// The lease must exceed the longest delivery (the HTTP timeout); the
// deliverer in package webhook makes sure of it.

// ClaimDeliveries claims due events of workspaces with a webhook, oldest
// due first: at most c.Limit, for c.Lease, and per workspace at most
// c.PerWorkspace or its c.Room. Events are ranked within their workspace
// among the first few times c.Limit due events (a long backlog is not read
// whole on every claim), leaving out the workspaces with no room at all.
func (db *DB) ClaimDeliveries(ctx context.Context, c parley.DeliveryClaim) ([]parley.Delivery, error) {
	// Empty, not nil: a NULL array would match no workspace at all.
	full, partial, room := []string{}, []string{}, []int{}
	for ws, n := range c.Room {
		if n <= 0 {
			full = append(full, ws)
			continue
		}
		partial, room = append(partial, ws), append(room, n)
	}
	perWorkspace := c.PerWorkspace
	if perWorkspace <= 0 {
		perWorkspace = c.Limit
	}
	rows, err := db.pool.Query(ctx, `WITH cand AS (
			SELECT id, row_number() OVER (PARTITION BY workspace_id ORDER BY next_attempt_at, id) AS n,
				coalesce(r.room, $5) AS room
			FROM (SELECT id, workspace_id, next_attempt_at FROM outbox
				WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
					AND workspace_id <> ALL($6::uuid[])
				ORDER BY next_attempt_at, id LIMIT $1 * 10) o
			LEFT JOIN unnest($3::uuid[], $4::int[]) AS r(ws, room) ON r.ws = o.workspace_id
		), due AS (
			SELECT o.id, w.url, w.secret FROM outbox o
			JOIN cand ON cand.id = o.id AND cand.n <= cand.room
			JOIN webhooks w ON w.workspace_id = o.workspace_id
			WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= now()
			ORDER BY o.next_attempt_at, o.id LIMIT $1
			FOR UPDATE OF o SKIP LOCKED)
		UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + $2::float8 * interval '1 millisecond'
		FROM due WHERE o.id = due.id
		RETURNING o.id, o.workspace_id, o.event_id, o.event_type, o.payload, o.created_at, o.attempts, due.url, due.secret`,
		c.Limit, millis(c.Lease), partial, room, perWorkspace, full)
	if err != nil {
		return nil, fmt.Errorf("claim outbox events: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Delivery, error) {
		var d parley.Delivery
		err := r.Scan(&d.ID, &d.WorkspaceID, &d.EventID, &d.EventType, &d.Payload, &d.CreatedAt, &d.Attempt, &d.URL, &d.Secret)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox events: %w", err)
	}
	return ds, nil
}

// MarkDelivered records that the receiver accepted the event. Any attempt's
// success counts, even one whose lease ran out.
func (db *DB) MarkDelivered(ctx context.Context, d parley.Delivery) error {
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET delivered_at = now(), last_error = ''
		WHERE id = $1 AND delivered_at IS NULL`, d.ID)
	if err != nil {
		return fmt.Errorf("mark event %s delivered: %w", d.EventID, err)
	}
	return nil
}

// MarkFailed records a failed attempt: the event is due again after
// retryIn, or never when dead. It reports false when the claim was no
// longer this worker's (delivered meanwhile, or claimed again).
func (db *DB) MarkFailed(ctx context.Context, d parley.Delivery, reason string, retryIn time.Duration, dead bool) (bool, error) {
	reason = strings.ToValidUTF8(reason, "?")
	if utf8.RuneCountInString(reason) > maxErrorChars {
		reason = string([]rune(reason)[:maxErrorChars]) + "…"
	}
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET last_error = $3,
			next_attempt_at = now() + $4::float8 * interval '1 millisecond', dead_at = CASE WHEN $5::boolean THEN now() END
		WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND dead_at IS NULL`,
		d.ID, d.Attempt, reason, millis(retryIn), dead)
	if err != nil {
		return false, fmt.Errorf("record failed delivery of event %s: %w", d.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseDelivery makes a claimed event due again at once, for a worker
// stopped before it knew the outcome. The attempt still counts.
func (db *DB) ReleaseDelivery(ctx context.Context, d parley.Delivery) error {
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET next_attempt_at = now()
		WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND dead_at IS NULL`, d.ID, d.Attempt)
	if err != nil {
		return fmt.Errorf("release event %s: %w", d.EventID, err)
	}
	return nil
}

// DeleteExpiredOutboxEvents deletes the events delivered longer than
// retention ago and the events given up longer than deadRetention ago, at
// most batch rows per statement, so that none holds its locks for long,
// until a statement finds fewer. Events still to be delivered are never
// deleted. Rows another worker has locked are left for the next time. It
// returns how many events it deleted, also when it fails part way.
func (db *DB) DeleteExpiredOutboxEvents(ctx context.Context, retention, deadRetention time.Duration, batch int) (int, error) {
	total := 0
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE id = ANY(ARRAY(
				SELECT id FROM outbox
				WHERE delivered_at < now() - $1::float8 * interval '1 millisecond'
					OR dead_at < now() - $2::float8 * interval '1 millisecond'
				LIMIT $3 FOR UPDATE SKIP LOCKED))`, millis(retention), millis(deadRetention), batch)
		if err != nil {
			return total, fmt.Errorf("delete expired outbox events: %w", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n == 0 || n < batch {
			return total, nil
		}
	}
}

// millis is d in milliseconds, for SQL interval arithmetic.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
