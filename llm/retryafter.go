package llm

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value (RFC 9110, section
// 10.2.3): delay-seconds, a non-negative decimal integer ("0" included), or
// an HTTP-date, whose delay is the time from now until then, 0 once it has
// passed. Delays too long for a time.Duration are the longest one. ok is
// false when v is empty or neither.
//
// Both the chat-model clients and the webhook deliverer (package webhook)
// honour the header, and both import this package.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	if v == "" {
		return 0, false
	}
	if strings.TrimLeft(v, "0123456789") == "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > math.MaxInt64/int64(time.Second) { // v is digits: the only error is ErrRange
			return math.MaxInt64, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
