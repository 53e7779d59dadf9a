package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// Failed-authentication throttling. Every key lookup costs a database
// query, so a client guessing keys is slowed down before it can cost more:
// each client address may fail 30 times, then once every 2 s; each key
// prefix (the part of a key shown in listings) 10 times, then once every
// 6 s. While a client is throttled its requests are answered 429 without
// looking the key up. Only failures count: a client using a valid key is
// never slowed down by its own traffic.
//
// The address is the connection's (gin's RemoteIP), never a forwarded
// header a client could make up; behind a proxy all its clients share it.

// rateLimit is a token bucket: burst tokens, one more every every.
type rateLimit struct {
	burst float64
	every time.Duration
}

var (
	addressFailures = rateLimit{burst: 30, every: 2 * time.Second}
	prefixFailures  = rateLimit{burst: 10, every: 6 * time.Second}
)

// keyPrefixLen is how much of a key names its prefix ("prly_" and six
// characters), as the store shows it.
const keyPrefixLen = 11

// maxBuckets bounds the memory of one kind of bucket; past it, buckets that
// have refilled are forgotten, and if none has, all are.
const maxBuckets = 10000

type bucket struct {
	tokens float64
	at     time.Time
}

// buckets are the token buckets of one limit, by client address or prefix.
type buckets struct {
	limit rateLimit
	m     map[string]bucket
}

// level returns the tokens of key's bucket at now.
func (b *buckets) level(key string, now time.Time) float64 {
	bk, ok := b.m[key]
	if !ok {
		return b.limit.burst
	}
	return min(b.limit.burst, bk.tokens+float64(now.Sub(bk.at))/float64(b.limit.every))
}

// wait is how long until key may fail again (0: now).
func (b *buckets) wait(key string, now time.Time) time.Duration {
	if tokens := b.level(key, now); tokens < 1 {
		return time.Duration((1 - tokens) * float64(b.limit.every))
	}
	return 0
}

// take spends a token of key's bucket.
func (b *buckets) take(key string, now time.Time) {
	if len(b.m) >= maxBuckets {
		for k := range b.m {
			if b.level(k, now) >= b.limit.burst {
				delete(b.m, k)
			}
		}
		if len(b.m) >= maxBuckets { // all still draining: start again
			b.m = map[string]bucket{}
		}
	}
	b.m[key] = bucket{tokens: b.level(key, now) - 1, at: now}
}

// authThrottle counts failed authentications. It is safe for concurrent use.
type authThrottle struct {
	mu       sync.Mutex
	now      func() time.Time
	byAddr   buckets
	byPrefix buckets
}

func newAuthThrottle() *authThrottle {
	return &authThrottle{
		now:      time.Now,
		byAddr:   buckets{limit: addressFailures, m: map[string]bucket{}},
		byPrefix: buckets{limit: prefixFailures, m: map[string]bucket{}},
	}
}

// wait is how long the client at addr must wait before trying secret.
func (t *authThrottle) wait(addr, secret string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return max(t.byAddr.wait(addr, now), t.byPrefix.wait(prefixOf(secret), now))
}

// failed records a failed authentication.
func (t *authThrottle) failed(addr, secret string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.byAddr.take(addr, now)
	t.byPrefix.take(prefixOf(secret), now)
}

func prefixOf(secret string) string { return secret[:min(len(secret), keyPrefixLen)] }

// throttled answers 429 with Retry-After when the client must wait.
func throttled(c *gin.Context, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	fail(c, parley.Errorf(parley.ERateLimited, "too many failed authentications from this address or for this key; try again in %d s", secs))
}
