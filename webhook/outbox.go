// Package webhook delivers escalation events to the workspaces' webhook
// endpoints: a Deliverer claims due events from the outbox the store keeps,
// one lane per destination, signs them (Sign, HMAC-SHA256), POSTs them,
// retries failures with backoff (honouring Retry-After), pauses
// destinations that keep failing, and deletes old events when asked;
// DestinationPolicy keeps deliveries away from private and internal
// addresses.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

// OutboxStore is what the Deliverer needs from the database
// (postgres.DB); see postgres.ClaimDeliveries for how claims work.
type OutboxStore interface {
	ClaimDeliveries(ctx context.Context, c parley.DeliveryClaim) ([]parley.Delivery, error)
	MarkDelivered(ctx context.Context, d parley.Delivery) error
	MarkFailed(ctx context.Context, d parley.Delivery, reason string, retryIn time.Duration, dead bool) (bool, error)
	ReleaseDelivery(ctx context.Context, d parley.Delivery) error
	DeleteExpiredOutboxEvents(ctx context.Context, retention, deadRetention time.Duration, batch int) (int, error)
}

// DelivererOptions tune the Deliverer; zero values take the defaults.
type DelivererOptions struct {
	PollInterval time.Duration // how often to look for due events: 1s
	Timeout      time.Duration // per HTTP request: 10s
	// Concurrency is how many events are sent at once in all (32), and
	// PerDestination to one workspace's webhook (4): a slow or hanging
	// receiver holds back only its own events.
	Concurrency    int
	PerDestination int
	// After BreakAfter failures in a row (5), a destination is paused for
	// BreakFor (30s): none of its events are claimed. A failure after the
	// pause pauses it again for twice as long, up to MaxBackoff; a success
	// closes the breaker.
	BreakAfter  int
	BreakFor    time.Duration
	MaxAttempts int           // attempts before an event is dead: 15
	BaseBackoff time.Duration // wait after the first failure, doubled after each: 5s
	MaxBackoff  time.Duration // longest wait between attempts: 1h
	// DeleteExpired deletes events delivered more than Retention ago (7
	// days) and events given up more than DeadRetention ago (30 days).
	Retention     time.Duration
	DeadRetention time.Duration
	// Policy is checked on the address of every connection: one it refuses
	// is a failed attempt. The zero value allows public addresses only.
	Policy DestinationPolicy
	Logger *slog.Logger
}

// Deliverer sends webhook events from the outbox: it claims due events,
// POSTs each, signed, to its workspace's webhook, and records the outcome,
// retrying failures with exponential backoff and jitter until MaxAttempts.
// Each workspace's webhook is a lane of its own: at most PerDestination
// of its events in flight, and a circuit breaker that pauses it after
// repeated failures. Claims do not wait for requests in flight: a lane
// with room gets events at the next poll (or as soon as a request ends),
// whatever the other lanes are doing. DeleteExpired deletes events
// delivered or given up long enough ago. Several Deliverers (one per replica) may run
// against one database; lanes and breakers are per Deliverer. Delivery is
// at least once: receivers deduplicate by X-Parley-Delivery.
type Deliverer struct {
	store  OutboxStore
	opts   DelivererOptions
	client *http.Client
	log    *slog.Logger
	lease  time.Duration

	mu       sync.Mutex
	inFlight map[string]int      // workspace → events being sent
	total    int                 // events being sent
	breakers map[string]*breaker // workspaces with failures in a row
	freed    chan struct{}       // a send ended: there may be room
}

// breaker counts a destination's failures in a row and pauses it.
type breaker struct {
	failures int
	pause    time.Duration // the last pause, 0 before the first
	until    time.Time
}

// NewDeliverer returns a Deliverer; start it with Run.
func NewDeliverer(store OutboxStore, opts DelivererOptions) *Deliverer {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.PollInterval, time.Second)
	def(&opts.Timeout, 10*time.Second)
	def(&opts.BaseBackoff, 5*time.Second)
	def(&opts.MaxBackoff, time.Hour)
	def(&opts.BreakFor, 30*time.Second)
	def(&opts.Retention, 7*24*time.Hour)
	def(&opts.DeadRetention, 30*24*time.Hour)
	defInt(&opts.Concurrency, 32)
	defInt(&opts.PerDestination, 4)
	defInt(&opts.BreakAfter, 5)
	defInt(&opts.MaxAttempts, 15)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A claim must outlast the request and the bookkeeping after it, or a
	// second worker could send the event while the first still is.
	return &Deliverer{store: store, opts: opts, client: newClient(opts.Policy), log: log, lease: 2*opts.Timeout + 10*time.Second,
		inFlight: map[string]int{}, breakers: map[string]*breaker{}, freed: make(chan struct{}, 1)}
}

// newClient returns the client that sends events: it follows no redirects
// (a 3xx is a failure) and connects only where policy allows. It uses no
// proxy, since the policy checks the address connected to: through a proxy
// that would be the proxy's, not the receiver's.
func newClient(policy DestinationPolicy) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: policy.Control}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = dialer.DialContext
	return &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run delivers due events until ctx is done, then waits for the events
// it was sending to be handed back and returns nil.
func (d *Deliverer) Run(ctx context.Context) error {
	var sends sync.WaitGroup
	defer sends.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.freed:
		}
		n, room, err := d.claimAndSend(ctx, &sends)
		if ctx.Err() != nil {
			return nil
		}
		wait := d.opts.PollInterval
		switch {
		case err != nil:
			d.log.ErrorContext(ctx, "webhook delivery", "err", err.Error())
		case n > 0 && n == room:
			wait = 0 // more may be due
		}
		timer.Reset(wait)
	}
}

// RunOnce claims the due events there is room for, sends them and records
// the outcomes. It returns how many events it claimed.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	var sends sync.WaitGroup
	n, _, err := d.claimAndSend(ctx, &sends)
	sends.Wait()
	return n, err
}

// claimAndSend claims as many due events as the lanes have room for and
// starts sending each in a goroutine of sends. It returns how many it
// claimed and how many it asked for.
func (d *Deliverer) claimAndSend(ctx context.Context, sends *sync.WaitGroup) (n, asked int, err error) {
	claim := d.room()
	if claim.Limit == 0 {
		return 0, 0, nil
	}
	batch, err := d.store.ClaimDeliveries(ctx, claim)
	if err != nil {
		return 0, claim.Limit, err
	}
	// A send that ended while the claim ran may have paused a destination
	// the claim still had room for: its events go back, unsent.
	var paused []parley.Delivery
	now := time.Now()
	d.mu.Lock()
	batch = slices.DeleteFunc(batch, func(dl parley.Delivery) bool {
		if b := d.breakers[dl.WorkspaceID]; b != nil && now.Before(b.until) {
			paused = append(paused, dl)
			return true
		}
		d.inFlight[dl.WorkspaceID]++
		d.total++
		return false
	})
	d.mu.Unlock()
	for _, dl := range paused {
		if err := d.store.ReleaseDelivery(context.WithoutCancel(ctx), dl); err != nil {
			d.log.ErrorContext(ctx, "release webhook event of a paused destination", "event_id", dl.EventID, "err", err.Error())
		}
	}
	for _, dl := range batch {
		sends.Go(func() {
			defer d.done(dl.WorkspaceID)
			d.deliver(ctx, dl)
		})
	}
	return len(batch), claim.Limit, nil
}

// room says which events there is room for: Concurrency less the events
// in flight, PerDestination per workspace less its own, none for paused
// workspaces.
func (d *Deliverer) room() parley.DeliveryClaim {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := parley.DeliveryClaim{Limit: d.opts.Concurrency - d.total, Lease: d.lease, PerWorkspace: d.opts.PerDestination, Room: map[string]int{}}
	for ws, n := range d.inFlight {
		c.Room[ws] = d.opts.PerDestination - n
	}
	now := time.Now()
	for ws, b := range d.breakers {
		if now.Before(b.until) {
			c.Room[ws] = 0
		}
	}
	return c
}

// done frees the lane of a send that ended.
func (d *Deliverer) done(workspaceID string) {
	d.mu.Lock()
	d.total--
	if d.inFlight[workspaceID]--; d.inFlight[workspaceID] <= 0 {
		delete(d.inFlight, workspaceID)
	}
	d.mu.Unlock()
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

// record counts an attempt's outcome in its destination's breaker and
// reports how long the destination is now paused (0: not).
func (d *Deliverer) record(workspaceID string, ok bool) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		delete(d.breakers, workspaceID)
		return 0
	}
	b := d.breakers[workspaceID]
	if b == nil {
		b = &breaker{}
		d.breakers[workspaceID] = b
	}
	b.failures++
	now := time.Now()
	switch {
	case now.Before(b.until):
		return 0 // a request sent before the pause: the pause stands
	case b.pause > 0: // failed again after a pause
		b.pause = min(2*b.pause, d.opts.MaxBackoff)
	case b.failures >= d.opts.BreakAfter:
		b.pause = d.opts.BreakFor
	default:
		return 0
	}
	b.until = now.Add(b.pause)
	return b.pause
}

// Event is the JSON body of a webhook request. It is the same on every
// attempt.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Webhook request headers.
const (
	HeaderEvent     = "X-Parley-Event"
	HeaderDelivery  = "X-Parley-Delivery" // the event id: the same on every attempt
	HeaderTimestamp = "X-Parley-Timestamp"
	HeaderSignature = "X-Parley-Signature"
	HeaderAttempt   = "X-Parley-Attempt"
)

// Sign returns the X-Parley-Signature of a request: "sha256=" and the hex
// HMAC-SHA256, keyed with the webhook secret, of the X-Parley-Timestamp
// value (Unix seconds, in decimal), a ".", and the raw body.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver makes one attempt and records its outcome. Bookkeeping runs on a
// context of its own: it must happen even when ctx is cancelled.
func (d *Deliverer) deliver(ctx context.Context, dl parley.Delivery) {
	log := d.log.With("event_id", dl.EventID, "event_type", dl.EventType, "workspace_id", dl.WorkspaceID, "attempt", dl.Attempt)
	bookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()

	retryAfter, err := d.send(ctx, dl)
	if ctx.Err() == nil {
		if pause := d.record(dl.WorkspaceID, err == nil); pause > 0 {
			log.WarnContext(ctx, "webhook destination paused after failures in a row", "pause", pause.String(), "url", dl.URL)
		}
	}
	switch {
	case err == nil:
		if err := d.store.MarkDelivered(bookCtx, dl); err != nil {
			log.ErrorContext(ctx, "webhook delivered but not recorded: it will be sent again", "err", err.Error())
			return
		}
		log.DebugContext(ctx, "webhook delivered")
	case ctx.Err() != nil:
		// Stopped mid-request: let the next worker try at once.
		if err := d.store.ReleaseDelivery(bookCtx, dl); err != nil {
			log.ErrorContext(ctx, "release webhook event", "err", err.Error())
		}
	default:
		dead := dl.Attempt >= d.opts.MaxAttempts
		wait := max(d.backoff(dl.Attempt), min(retryAfter, d.opts.MaxBackoff))
		ok, ferr := d.store.MarkFailed(bookCtx, dl, err.Error(), wait, dead)
		switch {
		case ferr != nil:
			log.ErrorContext(ctx, "record failed webhook delivery", "err", ferr.Error())
		case !ok:
			log.InfoContext(ctx, "webhook attempt failed after its claim was taken over", "err", err.Error())
		case dead:
			log.ErrorContext(ctx, "webhook event given up", "err", err.Error(), "url", dl.URL)
		default:
			log.WarnContext(ctx, "webhook delivery failed; will retry", "err", err.Error(), "retry_in", wait.String())
		}
	}
}

// send POSTs the event; nil means the receiver answered 2xx. retryAfter is
// the receiver's Retry-After, if it sent one.
func (d *Deliverer) send(ctx context.Context, dl parley.Delivery) (retryAfter time.Duration, err error) {
	body, err := json.Marshal(Event{ID: dl.EventID, Type: dl.EventType, CreatedAt: dl.CreatedAt.UTC(), Data: dl.Payload})
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set(HeaderEvent, dl.EventType)
	req.Header.Set(HeaderDelivery, dl.EventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(dl.Secret, ts, body))
	req.Header.Set(HeaderAttempt, strconv.Itoa(dl.Attempt))
	resp, err := d.client.Do(req)
	if err != nil {
		var urlErr interface{ Timeout() bool }
		if errors.As(err, &urlErr) && urlErr.Timeout() {
			return 0, fmt.Errorf("no answer within %s", d.opts.Timeout)
		}
		return 0, fmt.Errorf("POST: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	// Without a usable Retry-After, retryAfter is 0: the backoff decides.
	retryAfter, _ = llm.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return retryAfter, fmt.Errorf("receiver answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
}

// backoff is how long to wait after the attempt-th failure: BaseBackoff
// doubled per earlier failure, capped at MaxBackoff, then jittered by ±20%
// so that events failing together do not retry together.
func (d *Deliverer) backoff(attempt int) time.Duration {
	wait := d.opts.BaseBackoff
	for i := 1; i < attempt && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, d.opts.MaxBackoff)
	jittered := time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
	return min(jittered, d.opts.MaxBackoff)
}
