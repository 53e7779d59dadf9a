package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/webhook"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// These tests run one at a time: a Deliverer claims from the whole outbox
// of the test schema. (It would deliver another test's events correctly, to
// that test's receiver, but attempt counts would no longer be exact.)

const secret = "test-secret-0123456789"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// receiver is a webhook endpoint that verifies signatures, fails the first
// failFirst attempts of every event, and deduplicates by event id as the
// README tells receivers to.
type receiver struct {
	t         *testing.T
	failFirst int
	hang      bool // hold requests until the sender gives up

	mu         sync.Mutex
	attempts   map[string]int         // requests per event id
	bodies     map[string][]byte      // first body per event id
	accepted   map[string]time.Time   // when each event was first accepted
	times      map[string][]time.Time // when each attempt arrived
	processed  map[string]bool        // events acted on, once each
	duplicates int                    // accepted again after processing
	hanging    int                    // requests being held
	mostHeld   int                    // most requests held at once
	bad        []string               // what was wrong with malformed requests
}

func newReceiver(t *testing.T, failFirst int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, failFirst: failFirst, attempts: map[string]int{}, bodies: map[string][]byte{}, processed: map[string]bool{},
		accepted: map[string]time.Time{}, times: map[string][]time.Time{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev webhook.Event
	problem := ""
	ts, tsErr := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(r.Header.Get(webhook.HeaderTimestamp) + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	switch {
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		problem = "method or content type"
	case json.Unmarshal(body, &ev) != nil:
		problem = "body is not an event"
	case tsErr != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute:
		problem = "timestamp"
	case !hmac.Equal([]byte(r.Header.Get(webhook.HeaderSignature)), []byte(want)):
		problem = "signature"
	case r.Header.Get(webhook.HeaderDelivery) != ev.ID || r.Header.Get(webhook.HeaderEvent) != ev.Type:
		problem = "event headers do not match the body"
	}
	rc.mu.Lock()
	if problem != "" {
		rc.bad = append(rc.bad, problem)
		rc.mu.Unlock()
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	rc.attempts[ev.ID]++
	rc.times[ev.ID] = append(rc.times[ev.ID], time.Now())
	n := rc.attempts[ev.ID]
	if first, ok := rc.bodies[ev.ID]; !ok {
		rc.bodies[ev.ID] = body
	} else if !bytes.Equal(first, body) {
		rc.bad = append(rc.bad, "body changed between attempts")
	}
	// Attempts the receiver never saw (a worker died) count too.
	if a, err := strconv.Atoi(r.Header.Get(webhook.HeaderAttempt)); err != nil || a < n {
		rc.bad = append(rc.bad, "attempt header "+r.Header.Get(webhook.HeaderAttempt)+", want at least "+strconv.Itoa(n))
	}
	hang, fail := rc.hang, n <= rc.failFirst
	rc.mu.Unlock()

	if hang {
		rc.mu.Lock()
		rc.hanging++
		rc.mostHeld = max(rc.mostHeld, rc.hanging)
		rc.mu.Unlock()
		<-r.Context().Done()
		rc.mu.Lock()
		rc.hanging--
		rc.mu.Unlock()
		return
	}
	if fail {
		http.Error(w, "not today", http.StatusInternalServerError)
		return
	}
	rc.mu.Lock()
	if rc.processed[ev.ID] {
		rc.duplicates++
	} else {
		rc.accepted[ev.ID] = time.Now()
	}
	rc.processed[ev.ID] = true
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) set(f func(*receiver)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	f(rc)
}

// count returns how many of ids satisfy f, under the lock.
func (rc *receiver) count(ids []string, f func(rc *receiver, id string) bool) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, id := range ids {
		if f(rc, id) {
			n++
		}
	}
	return n
}

func (rc *receiver) check(ids []string, wantAttempts int) {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		rc.t.Fatalf("malformed deliveries: %v", rc.bad)
	}
	if rc.duplicates != 0 {
		rc.t.Fatalf("%d events were delivered again after being accepted", rc.duplicates)
	}
	for _, id := range ids {
		if !rc.processed[id] || rc.attempts[id] != wantAttempts {
			rc.t.Fatalf("event %s: processed %v after %d attempts, want processed after %d", id, rc.processed[id], rc.attempts[id], wantAttempts)
		}
	}
}

// get returns the attempts and first body of an event.
func (rc *receiver) get(id string) (int, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts[id], rc.bodies[id]
}

func processed(rc *receiver, id string) bool { return rc.processed[id] }
func attempted(rc *receiver, id string) bool { return rc.attempts[id] > 0 }

// setup makes a workspace whose webhook points at srv and n escalations in
// it; it returns the workspace and the ids of their escalation.created
// events.
func setup(t *testing.T, srv *httptest.Server, n int) (parley.Workspace, []string) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	if _, _, err := db.PutWebhook(ctx, ws.ID, srv.URL+"/hooks/parley", secret); err != nil {
		t.Fatal(err)
	}
	var escalations []string
	for range n {
		escalations = append(escalations, escalate(t, ws))
	}
	return ws, eventIDs(t, db, ws, escalations)
}

// escalate escalates a new conversation of the workspace and returns the
// escalation's id.
func escalate(t *testing.T, ws parley.Workspace) string {
	t.Helper()
	ctx := context.Background()
	db := pgtest.DB(t)
	conv, err := db.CreateConversation(ctx, ws.ID, "chat", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := db.Escalate(ctx, parley.NewEscalation{
		WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonHumanRequested,
		CustomerNotice: "Someone will reply.", Context: parley.EscalationContext{Question: "human please", Candidates: []byte("[]")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// eventIDs returns the ids of the escalation.created events of the
// workspace's escalations.
func eventIDs(t *testing.T, db *postgres.DB, ws parley.Workspace, escalations []string) []string {
	t.Helper()
	var ids []string
	for _, e := range escalations {
		var id string
		err := db.Pool().QueryRow(context.Background(), `SELECT event_id FROM outbox
			WHERE workspace_id = $1 AND event_type = 'escalation.created' AND payload->>'id' = $2`, ws.ID, e).Scan(&id)
		if err != nil {
			t.Fatalf("event of escalation %s: %v", e, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// run starts a Deliverer with fast test timings, allowed to send to the
// receivers on 127.0.0.1; stop stops it and waits.
func run(t *testing.T, opts webhook.DelivererOptions) (stop func()) {
	t.Helper()
	opts.PollInterval = 20 * time.Millisecond
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff, opts.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.BreakFor == 0 { // a receiver failing on purpose is paused only briefly
		opts.BreakFor = 20 * time.Millisecond
	}
	opts.Policy = webhook.DestinationPolicy{AllowPrivate: true}
	opts.Logger = quiet
	d := webhook.NewDeliverer(pgtest.DB(t), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	}
	t.Cleanup(stop)
	return stop
}

// pending returns how many of the workspace's events are not delivered.
func pending(t *testing.T, ws parley.Workspace) int {
	t.Helper()
	w, err := pgtest.DB(t).Webhook(context.Background(), ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	return w.Pending
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A receiver failing the first two attempts of each event gets every event
// again, signed, with the same id and body, and acts on each exactly once.
func TestDeliveryRetriesUntilAccepted(t *testing.T) {
	rc, srv := newReceiver(t, 2)
	ws, ids := setup(t, srv, 3)
	stop := run(t, webhook.DelivererOptions{})
	waitFor(t, "all events processed", func() bool { return rc.count(ids, processed) == len(ids) })
	time.Sleep(200 * time.Millisecond) // ten polls: nothing more may arrive
	stop()
	rc.check(ids, 3)

	// The first escalation finds no team, creates the default one and is
	// routed again; the others are routed at once. Both events carry the
	// whole escalation.
	for _, id := range []string{ids[0], ids[len(ids)-1]} {
		_, body := rc.get(id)
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.Type != "escalation.created" || ev.CreatedAt.IsZero() {
			t.Fatalf("event %+v (%v)", ev, err)
		}
		var data parley.Escalation
		if err := json.Unmarshal(ev.Data, &data); err != nil || data.Status != parley.StatusOpen || data.Context.Question != "human please" ||
			!parley.IsID(data.ConversationID) || data.Reason != parley.ReasonHumanRequested || data.Team != "support" {
			t.Fatalf("event data %s", ev.Data)
		}
	}
	w, err := pgtest.DB(t).Webhook(context.Background(), ws.ID)
	if err != nil || w.Pending != 0 || w.Dead != 0 {
		t.Fatalf("webhook after delivery %+v (%v), want nothing pending", w, err)
	}
}

// An event the receiver never accepts is given up after MaxAttempts.
func TestDeliveryGivesUp(t *testing.T) {
	rc, srv := newReceiver(t, 1000)
	ws, ids := setup(t, srv, 1)
	stop := run(t, webhook.DelivererOptions{MaxAttempts: 3})
	db := pgtest.DB(t)
	waitFor(t, "the event to be dead", func() bool {
		w, err := db.Webhook(context.Background(), ws.ID)
		return err == nil && w.Dead == 1
	})
	time.Sleep(150 * time.Millisecond)
	stop()
	if n, _ := rc.get(ids[0]); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	var lastError string
	if err := db.Pool().QueryRow(context.Background(), `SELECT last_error FROM outbox WHERE event_id = $1`, ids[0]).Scan(&lastError); err != nil {
		t.Fatal(err)
	}
	if want := "receiver answered 500 Internal Server Error: not today"; lastError != want {
		t.Fatalf("last_error %q, want %q", lastError, want)
	}
}

// Stopped mid-request, a Deliverer hands its events back; a new one
// delivers them. A worker that dies without a word holds its events only
// until its lease ends.
func TestDeliverySurvivesRestart(t *testing.T) {
	rc, srv := newReceiver(t, 0)
	rc.set(func(r *receiver) { r.hang = true })
	ws, ids := setup(t, srv, 3)

	stopFirst := run(t, webhook.DelivererOptions{})
	waitFor(t, "requests in flight", func() bool { return rc.count(ids, attempted) == len(ids) })
	stopFirst()
	rc.set(func(r *receiver) { r.hang = false })
	if n := rc.count(ids, processed); n != 0 {
		t.Fatalf("%d events processed by a hanging receiver", n)
	}

	// Stopped only once the deliveries are recorded: stopped between the
	// receiver's 204 and the record, a worker hands the event back and it
	// is sent again (at least once), which this test does not count on.
	stopSecond := run(t, webhook.DelivererOptions{})
	waitFor(t, "events delivered and recorded after the restart", func() bool {
		return rc.count(ids, processed) == len(ids) && pending(t, ws) == 0
	})
	stopSecond()
	rc.check(ids, 2)

	// A crashed worker: claimed with a short lease, never heard of again.
	_, more := setup(t, srv, 2)
	db := pgtest.DB(t)
	if _, err := db.ClaimDeliveries(context.Background(), parley.DeliveryClaim{Limit: 1000, Lease: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, webhook.DelivererOptions{})
	waitFor(t, "events delivered after the lease", func() bool { return rc.count(more, processed) == len(more) })
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("delivered after %s, before the crashed worker's lease ended", waited)
	}
	rc.check(more, 1)
}

// With the default policy an event for a receiver on 127.0.0.1 (a URL set
// while it pointed elsewhere, or a name rebound since) is refused when the
// Deliverer connects: each attempt fails saying why, the last one gives the
// event up, and the receiver never hears of it.
func TestDeliveryRefusesPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	rc, srv := newReceiver(t, 0)
	_, ids := setup(t, srv, 1)
	db := pgtest.DB(t)
	d := webhook.NewDeliverer(db, webhook.DelivererOptions{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Logger: quiet})
	outcome := func() (attempts int, lastError string, dead bool) {
		t.Helper()
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		err := db.Pool().QueryRow(ctx, `SELECT attempts, last_error, dead_at IS NOT NULL FROM outbox WHERE event_id = $1`,
			ids[0]).Scan(&attempts, &lastError, &dead)
		if err != nil {
			t.Fatal(err)
		}
		return attempts, lastError, dead
	}
	const why = "127.0.0.1 is a loopback address, and only public addresses may be reached"
	if attempts, lastError, dead := outcome(); attempts != 1 || dead || !strings.Contains(lastError, why) {
		t.Fatalf("after one attempt: %d attempts, dead %v, last_error %q; want 1, alive, %q", attempts, dead, lastError, why)
	}
	time.Sleep(20 * time.Millisecond) // the retry is due
	if attempts, lastError, dead := outcome(); attempts != 2 || !dead || !strings.Contains(lastError, why) {
		t.Fatalf("after the last attempt: %d attempts, dead %v, last_error %q; want 2, dead, %q", attempts, dead, lastError, why)
	}
	if n := rc.count(ids, attempted); n != 0 {
		t.Fatalf("the receiver got %d events", n)
	}
	rc.check(nil, 0)
}

// DeleteExpired deletes the events delivered or given up longer ago than
// their retention, and says how many; the rest stay.
func TestDelivererDeletesExpiredEvents(t *testing.T) {
	ctx := context.Background()
	_, srv := newReceiver(t, 0)
	_, ids := setup(t, srv, 3)
	db := pgtest.DB(t)
	_, err := db.Pool().Exec(ctx, `UPDATE outbox SET
			delivered_at = CASE event_id WHEN $1 THEN now() - interval '8 days' WHEN $3 THEN now() - interval '1 day' END,
			dead_at = CASE event_id WHEN $2 THEN now() - interval '2 days' END
		WHERE event_id IN ($1, $2, $3)`, ids[0], ids[1], ids[2])
	if err != nil {
		t.Fatal(err)
	}
	d := webhook.NewDeliverer(db, webhook.DelivererOptions{DeadRetention: 24 * time.Hour, Logger: quiet})
	n, err := d.DeleteExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool().Query(ctx, `SELECT event_id::text FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id`, ids)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(left) != 1 || left[0] != ids[2] {
		t.Fatalf("deleted %d, events left %v; want 2 deleted, and left only the one delivered recently, %s", n, left, ids[2])
	}
}

// A receiver that hangs (answers nothing until the 10 s timeout) holds back
// only its own events: another workspace's events, escalated one every
// 200 ms meanwhile, each arrive within 2 s, with production timings (1 s
// polls). The hanging receiver never has more than PerDestination requests
// at once, and its failures pause it.
func TestHangingReceiverHoldsBackOnlyItsOwnEvents(t *testing.T) {
	hanging, hangSrv := newReceiver(t, 0)
	hanging.set(func(r *receiver) { r.hang = true })
	_, stuck := setup(t, hangSrv, 20)
	healthy, okSrv := newReceiver(t, 0)
	ws, _ := setup(t, okSrv, 0)

	d := webhook.NewDeliverer(pgtest.DB(t), webhook.DelivererOptions{Policy: webhook.DestinationPolicy{AllowPrivate: true}, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, "the hanging receiver's lane to fill", func() bool { return hanging.count(stuck, attempted) > 0 })

	var escalations []string
	for range 30 {
		escalations = append(escalations, escalate(t, ws))
		time.Sleep(200 * time.Millisecond)
	}
	ids := eventIDs(t, pgtest.DB(t), ws, escalations)
	waitFor(t, "the healthy receiver's events", func() bool { return healthy.count(ids, processed) == len(ids) })
	healthy.check(ids, 1)

	var late []time.Duration
	for _, id := range ids {
		_, body := healthy.get(id)
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		healthy.mu.Lock()
		late = append(late, healthy.accepted[id].Sub(ev.CreatedAt))
		healthy.mu.Unlock()
	}
	slices.Sort(late)
	median, worst := late[len(late)/2], late[len(late)-1]
	t.Logf("healthy events: median %s, max %s after they were recorded, beside a hanging receiver", median.Round(time.Millisecond), worst.Round(time.Millisecond))
	if worst > 2*time.Second {
		t.Fatalf("a healthy event arrived %s after it was recorded, want within 2 s (all: %v)", worst, late)
	}
	hanging.mu.Lock()
	defer hanging.mu.Unlock()
	if hanging.mostHeld != 4 {
		t.Fatalf("the hanging receiver held %d requests at once, want 4 (its lane)", hanging.mostHeld)
	}
}

// After BreakAfter failures in a row a destination is paused for BreakFor,
// then for twice as long after each failure that follows a pause; its
// events are not even claimed meanwhile.
func TestFailingDestinationIsPaused(t *testing.T) {
	rc, srv := newReceiver(t, 1000)
	_, ids := setup(t, srv, 1)
	const pause = time.Second
	stop := run(t, webhook.DelivererOptions{BreakAfter: 2, BreakFor: pause, BaseBackoff: time.Millisecond, MaxBackoff: time.Hour})
	waitFor(t, "four attempts", func() bool { n, _ := rc.get(ids[0]); return n >= 4 })
	stop()
	rc.mu.Lock()
	at := rc.times[ids[0]]
	rc.mu.Unlock()
	gaps := []time.Duration{at[1].Sub(at[0]), at[2].Sub(at[1]), at[3].Sub(at[2])}
	if gaps[0] >= pause || gaps[1] < pause || gaps[2] < 2*pause {
		t.Fatalf("gaps between attempts %v: want a retry at once, then a pause of %s, then one of %s", gaps, pause, 2*pause)
	}
}
