package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// Live wakes the event streams of a conversation when something a visitor
// must hear about is committed, and agents' queue streams when an
// escalation of their workspace changes, on whichever replica
// (postgres.Notifier: PostgreSQL LISTEN/NOTIFY).
type Live interface {
	// Subscribe returns a channel that receives (coalesced) wake-ups for
	// the conversation, and the function that ends the subscription.
	Subscribe(conversationID string) (<-chan struct{}, func())
	// SubscribeQueue returns a feed of the changes of the workspace's
	// escalations, and the function that ends the subscription.
	SubscribeQueue(workspaceID string) (parley.QueueFeed, func())
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
	st := startStream(c)
	state := ""
	send := func(p widgetMessages) bool {
		for _, m := range p.Messages {
			data, _ := json.Marshal(m)
			if !st.event(strconv.FormatInt(m.ID, 10), "message", data) {
				return false
			}
			after = m.ID
		}
		if p.State != state {
			state = p.State
			if !st.event("", "state", fmt.Appendf(nil, "{\"state\":%q}", state)) {
				return false
			}
		}
		return st.flush()
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
	s.keepStreaming(c, st, wake, catchUp)
}

// eventStream writes server-sent events.
type eventStream struct {
	w  gin.ResponseWriter
	rc *http.ResponseController
}

// startStream answers 200 with an event stream.
func startStream(c *gin.Context) *eventStream {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	return &eventStream{w: c.Writer, rc: http.NewResponseController(c.Writer)}
}

// event writes one event (with an id unless id is empty); data is one line
// of JSON. It reports whether the write went through.
func (st *eventStream) event(id, name string, data []byte) bool {
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWrite))
	if id != "" {
		if _, err := fmt.Fprintf(st.w, "id: %s\n", id); err != nil {
			return false
		}
	}
	_, err := fmt.Fprintf(st.w, "event: %s\ndata: %s\n\n", name, data)
	return err == nil
}

// retry tells the browser how long to wait before reconnecting when the
// stream ends (it is sent with the next event).
func (st *eventStream) retry(d time.Duration) {
	_, _ = fmt.Fprintf(st.w, "retry: %d\n", d.Milliseconds())
}

// flush sends what was written; false when the client is gone.
func (st *eventStream) flush() bool {
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWrite))
	return st.rc.Flush() == nil
}

// keepStreaming holds a stream open, calling refresh on every wake-up
// (every streamPoll when wake is nil) and writing a ": ping" comment
// every streamPing, until the client goes away, refresh or a write
// fails, or the server stops its streams.
func (s *Server) keepStreaming(c *gin.Context, st *eventStream, wake <-chan struct{}, refresh func() bool) {
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
			_ = st.rc.SetWriteDeadline(time.Now().Add(streamWrite))
			if _, err := fmt.Fprint(st.w, ": ping\n\n"); err != nil || !st.flush() {
				return
			}
			continue
		case <-wake:
		case <-poll:
		}
		if !refresh() {
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
