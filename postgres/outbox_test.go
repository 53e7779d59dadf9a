package postgres_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	if _, err := db.Webhook(ctx, ws.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("webhook before any: %v, want not_found", err)
	}
	escalate(t, db, ws, "", nil) // no webhook: no event

	bad := []struct{ name, url, secret string }{
		{"no url", "", ""},
		{"ftp", "ftp://example.com/hook", ""},
		{"relative", "/hook", ""},
		{"no host", "http://", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"userinfo", "https://user:pass@example.com/hook", ""},
		{"user only", "https://user@example.com/hook", ""},
		{"port only", "http://:8080/hook", ""},
		{"short secret", "https://example.com/hook", "short"},
		{"long url", "https://example.com/" + strings.Repeat("a", 2048), ""},
	}
	for _, tt := range bad {
		if _, _, err := db.PutWebhook(ctx, ws.ID, tt.url, tt.secret); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("%s: %v, want invalid", tt.name, err)
		}
	}

	w, secret, err := db.PutWebhook(ctx, ws.ID, "https://example.com/hook", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 || !strings.HasPrefix(secret, w.SecretPrefix) || len(w.SecretPrefix) != 10 {
		t.Fatalf("generated secret %q with prefix %q", secret, w.SecretPrefix)
	}
	if w.Pending != 0 {
		t.Fatalf("%d pending events recorded before the webhook existed", w.Pending)
	}
	w, secret, err = db.PutWebhook(ctx, ws.ID, "http://hooks.example.com/parley?x=1", "my-own-secret-of-24-chars")
	if err != nil || secret != "" || w.SecretPrefix != "my-o" || w.URL != "http://hooks.example.com/parley?x=1" {
		t.Fatalf("replace webhook: %+v, generated %q, %v", w, secret, err)
	}
	escalate(t, db, ws, "", nil)
	if w, _ = db.Webhook(ctx, ws.ID); w.Pending != 1 {
		t.Fatalf("%d pending events, want 1", w.Pending)
	}
	if err := db.DeleteWebhook(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWebhook(ctx, ws.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("second delete: %v, want not_found", err)
	}
	if w, _, _ = db.PutWebhook(ctx, ws.ID, "https://example.com/hook", ""); w.Pending != 0 {
		t.Fatalf("deleting the webhook left %d pending events", w.Pending)
	}
}

// The tests below claim from the whole outbox of the test schema, so they
// do not run in parallel with each other; they filter by workspace anyway.

// Workers claiming at once never get the same event.
func TestClaimDeliveriesSkipsLocked(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	if _, _, err := db.PutWebhook(ctx, ws.ID, "https://example.com/hook", ""); err != nil {
		t.Fatal(err)
	}
	const events = 12
	for range events {
		escalate(t, db, ws, "", nil)
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 3 {
		wg.Go(func() {
			for {
				batch, err := db.ClaimDeliveries(ctx, parley.DeliveryClaim{Limit: 2, Lease: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				for _, d := range batch {
					if d.WorkspaceID == ws.ID {
						seen[d.EventID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != events {
		t.Fatalf("claimed %d distinct events, want %d", len(seen), events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s claimed %d times", id, n)
		}
	}
}

// A claim holds an event for its lease; after it the event is due again,
// and the stale claim can no longer record an outcome.
func TestDeliveryLeaseAndFencing(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	if _, _, err := db.PutWebhook(ctx, ws.ID, "https://example.com/hook", "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	e := escalate(t, db, ws, "", nil)
	claim := func(lease time.Duration) []parley.Delivery {
		t.Helper()
		all, err := db.ClaimDeliveries(ctx, parley.DeliveryClaim{Limit: 100, Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		var mine []parley.Delivery
		for _, d := range all {
			if d.WorkspaceID == ws.ID {
				mine = append(mine, d)
			}
		}
		return mine
	}
	first := claim(100 * time.Millisecond)
	if len(first) != 1 || first[0].Attempt != 1 || first[0].EventType != "escalation.created" ||
		first[0].Secret != "0123456789abcdef" || !strings.Contains(string(first[0].Payload), e.ID) {
		t.Fatalf("first claim %+v", first)
	}
	if again := claim(time.Minute); len(again) != 0 {
		t.Fatalf("claimed during the lease: %+v", again)
	}
	time.Sleep(150 * time.Millisecond)
	second := claim(time.Minute)
	if len(second) != 1 || second[0].EventID != first[0].EventID || second[0].Attempt != 2 {
		t.Fatalf("claim after the lease %+v, want the same event, attempt 2", second)
	}
	if ok, err := db.MarkFailed(ctx, first[0], "stale", 0, false); err != nil || ok {
		t.Fatalf("stale claim recorded a failure: %v %v", ok, err)
	}
	if err := db.ReleaseDelivery(ctx, second[0]); err != nil {
		t.Fatal(err)
	}
	third := claim(time.Minute)
	if len(third) != 1 || third[0].Attempt != 3 {
		t.Fatalf("claim after release %+v, want attempt 3", third)
	}
	if ok, err := db.MarkFailed(ctx, third[0], "receiver answered 500", time.Hour, false); err != nil || !ok {
		t.Fatalf("mark failed: %v %v", ok, err)
	}
	if again := claim(time.Minute); len(again) != 0 {
		t.Fatalf("claimed before its retry time: %+v", again)
	}
	if err := db.MarkDelivered(ctx, third[0]); err != nil {
		t.Fatal(err)
	}
	if w, _ := db.Webhook(ctx, ws.ID); w.Pending != 0 || w.Dead != 0 {
		t.Fatalf("after delivery: %d pending, %d dead", w.Pending, w.Dead)
	}

	// The last attempt's failure makes the event dead.
	escalate(t, db, ws, "", nil)
	d := claim(time.Minute)
	if ok, err := db.MarkFailed(ctx, d[0], strings.Repeat("é", 2000), 0, true); err != nil || !ok {
		t.Fatalf("mark dead: %v %v", ok, err)
	}
	if again := claim(time.Minute); len(again) != 0 {
		t.Fatalf("claimed a dead event: %+v", again)
	}
	if w, _ := db.Webhook(ctx, ws.ID); w.Pending != 0 || w.Dead != 1 {
		t.Fatalf("after giving up: %d pending, %d dead", w.Pending, w.Dead)
	}
}

// Retention deletes events delivered, or given up, long enough ago, in
// batches; events still to be delivered stay whatever their age. (Not in
// parallel: it deletes from the whole outbox, though only rows as old as
// none but its own.)
func TestDeleteExpiredOutboxEvents(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	// add inserts an event created, delivered and given up the given
	// intervals ago ("" for never) and returns its id.
	add := func(created, delivered, dead string) int64 {
		t.Helper()
		var id int64
		err := db.Pool().QueryRow(ctx, `INSERT INTO outbox (workspace_id, event_type, payload, created_at, delivered_at, dead_at)
			VALUES ($1, 'escalation.created', '{}', now() - $2::interval,
				now() - NULLIF($3, '')::interval, now() - NULLIF($4, '')::interval)
			RETURNING id`, ws.ID, created, delivered, dead).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	kept := []int64{
		add("6 days", "6 days", ""),            // delivered within retention
		add("100 days", "", ""),                // pending, however old
		add("60 days", "", ""),                 // pending
		add("9 days", "", "8 days"),            // dead within its longer retention
		add("2 hours", "1 hour", ""),           // delivered just now
		add("31 days", "", "29 days 23 hours"), // dead, not quite expired
	}
	for range 5 {
		add("9 days", "8 days", "")
	}
	add("40 days", "", "31 days")               // dead long ago
	add("40 days", "39 days", "39 days 1 hour") // given up, then delivered by a late attempt
	const expired = 7

	const week, month = 7 * 24 * time.Hour, 30 * 24 * time.Hour
	n, err := db.DeleteExpiredOutboxEvents(ctx, week, month, 2) // three full batches and a short one
	if err != nil || n != expired {
		t.Fatalf("deleted %d events (%v), want %d", n, err, expired)
	}
	var left []int64
	rows, err := db.Pool().Query(ctx, `SELECT id FROM outbox WHERE workspace_id = $1 ORDER BY id`, ws.ID)
	if err == nil {
		left, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil || !slices.Equal(left, kept) {
		t.Fatalf("events left %v (%v), want %v", left, err, kept)
	}
	if n, err := db.DeleteExpiredOutboxEvents(ctx, week, month, 2); err != nil || n != 0 {
		t.Fatalf("second run deleted %d (%v), want 0", n, err)
	}
	// Exactly a batch: the loop must stop after the empty statement.
	add("9 days", "8 days", "")
	add("9 days", "8 days", "")
	if n, err := db.DeleteExpiredOutboxEvents(ctx, week, month, 2); err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
}
