// Package webhook delivers escalation events to the workspaces' webhook
// endpoints: a Deliverer claims due events from the outbox the store keeps,
// signs them (Sign, HMAC-SHA256), POSTs them, retries failures with backoff
// (honouring Retry-After) and deletes old events; DestinationPolicy keeps
// deliveries away from private and internal addresses.
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
	ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]parley.Delivery, error)
	MarkDelivered(ctx context.Context, d parley.Delivery) error
	MarkFailed(ctx context.Context, d parley.Delivery, reason string, retryIn time.Duration, dead bool) (bool, error)
	ReleaseDelivery(ctx context.Context, d parley.Delivery) error
	DeleteExpiredOutboxEvents(ctx context.Context, retention, deadRetention time.Duration, batch int) (int, error)
}

// DelivererOptions tune the Deliverer; zero values take the defaults.
type DelivererOptions struct {
	PollInterval time.Duration // how often to look for due events: 1s
	Timeout      time.Duration // per HTTP request: 10s
	BatchSize    int           // events claimed, and sent concurrently, at once: 20
	MaxAttempts  int           // attempts before an event is dead: 15
	BaseBackoff  time.Duration // wait after the first failure, doubled after each: 5s
	MaxBackoff   time.Duration // longest wait between attempts: 1h
	// Delivered events are deleted Retention after delivery (7 days),
	// events given up DeadRetention after (30 days), when the Deliverer
	// starts and every CleanupInterval (1h).
	Retention       time.Duration
	DeadRetention   time.Duration
	CleanupInterval time.Duration
	// Policy is checked on the address of every connection: one it refuses
	// is a failed attempt. The zero value allows public addresses only.
	Policy DestinationPolicy
	Logger *slog.Logger
}

// Deliverer sends webhook events from the outbox: it polls for due events,
// POSTs each, signed, to its workspace's webhook, and records the outcome,
// retrying failures with exponential backoff and jitter until MaxAttempts.
// It also deletes events delivered or given up long enough ago.
// Several Deliverers (one per replica) may run against one database.
// Delivery is at least once: receivers deduplicate by X-Parley-Delivery.
type Deliverer struct {
	store  OutboxStore
	opts   DelivererOptions
	client *http.Client
	log    *slog.Logger
	lease  time.Duration
}

// NewDeliverer returns a Deliverer; start it with Run.
func NewDeliverer(store OutboxStore, opts DelivererOptions) *Deliverer {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.PollInterval, time.Second)
	def(&opts.Timeout, 10*time.Second)
	def(&opts.BaseBackoff, 5*time.Second)
	def(&opts.MaxBackoff, time.Hour)
	def(&opts.Retention, 7*24*time.Hour)
	def(&opts.DeadRetention, 30*24*time.Hour)
	def(&opts.CleanupInterval, time.Hour)
	if opts.BatchSize <= 0 {
		opts.BatchSize = 20
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 15
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A claim must outlast the request and the bookkeeping after it, or a
	// second worker could send the event while the first still is.
	return &Deliverer{store: store, opts: opts, client: newClient(opts.Policy), log: log, lease: 2*opts.Timeout + 10*time.Second}
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

// Run delivers due events, and deletes expired ones, until ctx is done,
// then releases the events it was sending and returns nil.
func (d *Deliverer) Run(ctx context.Context) error {
	var cleaner sync.WaitGroup
	cleaner.Go(func() { d.cleanUp(ctx) })
	defer cleaner.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		n, err := d.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := d.opts.PollInterval
		switch {
		case err != nil:
			d.log.ErrorContext(ctx, "webhook delivery", "err", err.Error())
		case n == d.opts.BatchSize:
			wait = 0 // more may be due
		}
		timer.Reset(wait)
	}
}

// RunOnce claims one batch of due events, sends them concurrently and
// records the outcomes. It returns how many events it claimed.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	batch, err := d.store.ClaimDeliveries(ctx, d.opts.BatchSize, d.lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, dl := range batch {
		wg.Go(func() { d.deliver(ctx, dl) })
	}
	wg.Wait()
	return len(batch), nil
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
