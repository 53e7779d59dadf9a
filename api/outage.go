package api

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// retryAfterOutage is the Retry-After, in seconds, of a 503 answered while
// the database is unavailable: a restart takes a few seconds.
const retryAfterOutage = "2"

// outage classifies internal errors with Options.ClassifyError and tells
// the log when the database becomes unavailable and when it is back: once
// each, not once per request.
type outage struct {
	classify func(error) error
	log      *slog.Logger
	down     atomic.Bool
}

const outageKey = "parley.outage"

// classifyErr returns err as the classifier sees it, and whether it is the
// database being unavailable.
func (o *outage) classifyErr(c *gin.Context, err error) (error, bool) {
	if o == nil || o.classify == nil {
		return err, false
	}
	err = o.classify(err)
	if parley.ErrorCode(err) != parley.EUnavailable {
		return err, false
	}
	if o.down.CompareAndSwap(false, true) {
		o.log.WarnContext(c.Request.Context(), "database unavailable: answering 503 until it is back", "request_id", requestID(c))
	}
	return err, true
}

// watch clears the outage after a request that reached the database (an
// authenticated /v1 request) succeeded.
func (o *outage) watch(c *gin.Context) {
	c.Set(outageKey, o)
	c.Next()
	if c.Writer.Status() < http.StatusBadRequest && strings.HasPrefix(c.FullPath(), "/v1/") && o.down.CompareAndSwap(true, false) {
		o.log.InfoContext(c.Request.Context(), "database available again")
	}
}
