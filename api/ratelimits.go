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

// WidgetLimits are the widget routes' rate limits, each a token bucket
// kept in the server's process (see package ratelimit for what that means
// with several replicas).
type WidgetLimits struct {
	Visitor ratelimit.Rate // requests per visitor
	Key     ratelimit.Rate // requests per publishable key, all visitors together
	Address ratelimit.Rate // requests per client address
	// NewConversations caps the conversations one client address starts.
	NewConversations ratelimit.Rate
}

// DefaultWidgetLimits are the limits of a server whose options set none.
func DefaultWidgetLimits() WidgetLimits {
	return WidgetLimits{
		Visitor:          ratelimit.Rate{Events: 30, Per: time.Minute},
		Key:              ratelimit.Rate{Events: 6000, Per: time.Minute},
		Address:          ratelimit.Rate{Events: 120, Per: time.Minute},
		NewConversations: ratelimit.Rate{Events: 10, Per: time.Hour},
	}
}

type limits struct {
	visitor, key, address, newConversations *ratelimit.Limiter
}

func newLimits(l WidgetLimits) *limits {
	d := DefaultWidgetLimits()
	pick := func(r, def ratelimit.Rate) *ratelimit.Limiter {
		if r.Events <= 0 || r.Per <= 0 {
			r = def
		}
		return ratelimit.New(r, nil)
	}
	return &limits{
		visitor:          pick(l.Visitor, d.Visitor),
		key:              pick(l.Key, d.Key),
		address:          pick(l.Address, d.Address),
		newConversations: pick(l.NewConversations, d.NewConversations),
	}
}

// allow takes a token of id's bucket in lim, or answers 429 with
// Retry-After (whole seconds) and reports false.
func (l *limits) allow(c *gin.Context, lim *ratelimit.Limiter, what, id string) bool {
	ok, wait := lim.Allow(id)
	if ok {
		return true
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	c.Header("Retry-After", strconv.Itoa(secs))
	fail(c, &parley.Error{Code: codeRateLimited, Message: fmt.Sprintf("too many requests (limit per %s): retry in %d s", what, secs)})
	return false
}
