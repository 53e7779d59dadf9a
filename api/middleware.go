package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ctxlog"
)

const (
	loggerKey    = "parley.logger"
	requestIDKey = "parley.request_id"
	principalKey = "parley.principal"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes the caller's X-Request-ID when it is sane, or makes
// one, echoes it in the response and puts it in the request's context, so
// that every line logged with it carries it (ctxlog).
func (s *Server) withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Set(loggerKey, s.log)
	c.Request = c.Request.WithContext(ctxlog.With(c.Request.Context(), "request_id", id))
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// observe logs every request and records it in the metrics.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	s.metrics.requests.WithLabelValues(c.Request.Method, route, status).Inc()
	s.metrics.latency.WithLabelValues(c.Request.Method, route, status).Observe(elapsed.Seconds())
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		return
	}
	logger(c).LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", c.Writer.Size()),
	)
}

// limitBody caps the request body; reading past the cap fails with a
// *http.MaxBytesError, which fail answers with 413.
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			fail(c, parley.Errorf(parley.ETooLarge, "request body is larger than the limit of %d bytes", limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// recoverPanic turns a panic in a handler into a logged 500 with a JSON body.
func recoverPanic(c *gin.Context, v any) {
	fail(c, fmt.Errorf("panic: %v", v))
}
