// Package ratelimit keeps token buckets in process: each key (a visitor,
// a widget key, a client address) has a bucket of Rate.Events tokens that
// refills at Rate.Events per Rate.Per; a request takes a token or is
// refused with the time until the next one.
//
// The buckets live in one process. With several replicas behind a load
// balancer, each replica keeps its own: a client spread over N replicas
// gets up to N times the rate (exactly the rate when the balancer keeps a
// client on one replica).
package ratelimit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is Events per Per, and the burst: a full bucket holds Events.
type Rate struct {
	Events int
	Per    time.Duration
}

func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Events)
	case time.Minute:
		return fmt.Sprintf("%d/min", r.Events)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Events)
	}
	return fmt.Sprintf("%d/%s", r.Events, r.Per)
}

// ParseRate reads "N/s", "N/min", "N/h" or "N/DURATION" ("20/10m").
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	events, err := strconv.Atoi(n)
	if !ok || err != nil || events <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/min, N/h or N/DURATION with N > 0", s)
	}
	var d time.Duration
	switch per {
	case "s", "sec", "second":
		d = time.Second
	case "m", "min", "minute":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("rate %q: the period must be s, min, h or a duration like 10m", s)
		}
	}
	return Rate{Events: events, Per: d}, nil
}

// Limiter is a set of token buckets with one rate.
type Limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int // sweep idle buckets when the map reaches this size
}

type bucket struct {
	tokens float64
	at     time.Time
}

// minSweep is the map size under which idle buckets are left alone.
const minSweep = 10000

// New returns a limiter; now is the clock (nil for time.Now).
func New(rate Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: rate, now: now, buckets: map[string]*bucket{}, sweepAt: minSweep}
}

// Allow takes a token from key's bucket. When there is none it returns
// false and how long until there is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.now()
	perToken := l.rate.Per.Seconds() / float64(l.rate.Events)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		l.sweep(now)
		b = &bucket{tokens: float64(l.rate.Events), at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(l.rate.Events), b.tokens+now.Sub(b.at).Seconds()/perToken)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * perToken * float64(time.Second))
	return false, wait
}

// Wait returns how long until key's bucket has a token (0: it has one now),
// without taking it: for callers that spend tokens only on some outcomes,
// such as failed sign-ins.
func (l *Limiter) Wait(key string) time.Duration {
	now := l.now()
	perToken := l.rate.Per.Seconds() / float64(l.rate.Events)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	tokens := math.Min(float64(l.rate.Events), b.tokens+now.Sub(b.at).Seconds()/perToken)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * perToken * float64(time.Second))
}

// sweep drops the buckets that have refilled (a full bucket is the same as
// none) once the map has grown to sweepAt, so memory follows the clients
// active within one period.
func (l *Limiter) sweep(now time.Time) {
	if len(l.buckets) < l.sweepAt {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.at) >= l.rate.Per {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}
