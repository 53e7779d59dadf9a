package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Live wakes the event streams of a conversation when something a visitor
// must hear about is committed, on whichever replica (postgres.Notifier:
// PostgreSQL LISTEN/NOTIFY).
type Live interface {
	// Subscribe returns a channel that receives (coalesced) wake-ups for
	// the conversation, and the function that ends the subscription.
	Subscribe(conversationID string) (<-chan struct{}, func())
}

// Stream timings: a comment line keeps proxies and the browser from
// dropping an idle stream; without Live, streams re-read this often.
const (
	streamPing = 15 * time.Second
	streamPoll = 5 * time.Second
	// streamWrite is how long one write may take before the stream is
	// taken for dead.
	streamWrite = 30 * time.Second
)

// widgetEvents streams the visitor's conversation as server-sent events:
// "message" events (id: the message id) for every message after the
// cursor (?after=, or Last-Event-ID when the browser reconnects), "state"
// events when the state changes, and a ": ping" comment every 15 s. It
// ends when the client goes away or the server shuts down.
func (s *Server) widgetEvents(c *gin.Context) {
	after, err := cursorParam(cmp.Or(c.GetHeader("Last-Event-ID"), c.Query("after")))
	if err != nil {
		fail(c, err)
		return
	}
	var wake <-chan struct{}
	if s.opts.Live != nil {
		ch, unsubscribe := s.opts.Live.Subscribe(c.Param("id"))
		defer unsubscribe()
		wake = ch
	}
	// Subscribed before the first read: nothing committed after it is missed.
	page, err := s.visitorPage(c, after)
	if err != nil {
		fail(c, err)
		return
	}
	rc := http.NewResponseController(c.Writer)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)

	state := ""
	send := func(p widgetMessages) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
		for _, m := range p.Messages {
			data, _ := json.Marshal(m)
			if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: message\ndata: %s\n\n", m.ID, data); err != nil {
				return false
			}
			after = m.ID
		}
		if p.State != state {
			state = p.State
			if _, err := fmt.Fprintf(c.Writer, "event: state\ndata: {\"state\":%q}\n\n", state); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	// catchUp sends everything after the cursor, a page at a time.
	catchUp := func() bool {
		for {
			if page, err = s.visitorPage(c, after); err != nil {
				if c.Request.Context().Err() == nil {
					logger(c).WarnContext(c.Request.Context(), "event stream: read conversation", "err", err.Error())
				}
				return false
			}
			if !send(page) {
				return false
			}
			if len(page.Messages) < widgetPage {
				return true
			}
		}
	}
	if !send(page) || (len(page.Messages) == widgetPage && !catchUp()) {
		return
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	var poll <-chan time.Time
	if wake == nil {
		t := time.NewTicker(streamPoll)
		defer t.Stop()
		poll = t.C
	}
	ctx := c.Request.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stopStreams:
			return
		case <-ping.C:
			_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
			if _, err := fmt.Fprint(c.Writer, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
			continue
		case <-wake:
		case <-poll:
		}
		if !catchUp() {
			return
		}
	}
}

// StopStreams ends the open event streams (the browsers reconnect, to
// another replica); call it when shutdown begins, or the streams keep the
// server from finishing.
func (s *Server) StopStreams() {
	s.stopOnce.Do(func() { close(s.stopStreams) })
}
