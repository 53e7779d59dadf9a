package api

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ratelimit"
)

// Failed-authentication throttling. Every key lookup costs a database
// query, so a client guessing keys is slowed down before it can cost more:
// each client address may fail 30 times, then once every 2 s; each key
// prefix (the part of a key shown in listings) 10 times, then once every
// 6 s. While a client is throttled its requests are answered 429 without
// looking the key up. Only failures spend tokens: a client using a valid
// key is never slowed down by its own traffic. The client address is
// gin's ClientIP, which believes X-Forwarded-For only from
// Options.TrustedProxies.
var (
	addressFailures = ratelimit.Rate{Events: 30, Per: time.Minute}
	prefixFailures  = ratelimit.Rate{Events: 10, Per: time.Minute}
)

// keyPrefixLen is how much of a key is its prefix ("prly_" and six
// characters), as the store shows it.
const keyPrefixLen = 11

// authThrottle counts failed authentications by client address and by key
// prefix.
type authThrottle struct {
	byAddr, byPrefix *ratelimit.Limiter
}

func newAuthThrottle() *authThrottle {
	return &authThrottle{byAddr: ratelimit.New(addressFailures, nil), byPrefix: ratelimit.New(prefixFailures, nil)}
}

// allow reports whether the client at addr may try secret now; if not, it
// answers 429 with Retry-After.
func (t *authThrottle) allow(c *gin.Context, addr, secret string) bool {
	wait := t.wait(addr, secret)
	if wait <= 0 {
		return true
	}
	c.Header("Retry-After", retryAfter(wait))
	fail(c, &parley.Error{Code: codeRateLimited, Message: fmt.Sprintf("too many failed authentications from this address or for this key: retry in %d s", retrySeconds(wait))})
	return false
}

// wait is how long the client at addr must wait before trying secret (0: not at all).
func (t *authThrottle) wait(addr, secret string) time.Duration {
	return max(t.byAddr.Wait(addr), t.byPrefix.Wait(prefixOf(secret)))
}

// retrySeconds is a wait in whole seconds, at least 1; retryAfter the same
// as a Retry-After value.
func retrySeconds(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

func retryAfter(wait time.Duration) string { return strconv.Itoa(retrySeconds(wait)) }

// failed records a failed authentication.
func (t *authThrottle) failed(addr, secret string) {
	t.byAddr.Allow(addr)
	t.byPrefix.Allow(prefixOf(secret))
}

func prefixOf(secret string) string { return secret[:min(len(secret), keyPrefixLen)] }
