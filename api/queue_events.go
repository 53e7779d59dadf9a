package api

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// queueSnapshotSize is the most escalations a "queue" event lists; the
// rest are paged with GET /v1/escalations?status=unresolved&after=.
const queueSnapshotSize = 100

// DefaultQueueStreamMax is how long a queue stream stays open by default.
const DefaultQueueStreamMax = 5 * time.Minute

// queueSnapshot is the data of a "queue" event: the unresolved
// escalations, oldest first.
type queueSnapshot struct {
	Escalations []parley.Escalation `json:"escalations"`
	NextAfter   string              `json:"next_after,omitempty"`
}

// queueChange is the data of an "escalation" event.
type queueChange struct {
	Change     string            `json:"change"`
	Escalation parley.Escalation `json:"escalation"`
}

// queueEvents streams the workspace's queue to agents as server-sent
// events, live across replicas: "queue" first (the unresolved escalations,
// oldest first, as GET /v1/escalations lists them) and again whenever
// changes may have been missed; then an "escalation" event for each change
// (created, claimed, resolved, or message: the handed-off conversation got
// a message) with the escalation as it is when the event is sent; and a
// ": ping" comment every 15 s. ?team=NAME keeps to one team's
// escalations. It ends when the client goes away, the server shuts down,
// or after QueueStreamMax (EventSource reconnects by itself).
func (s *Server) queueEvents(c *gin.Context) {
	// The stream ends after a while, for the client to reconnect and be
	// authenticated again.
	ctx, cancel := context.WithTimeout(c.Request.Context(), cmp.Or(s.opts.QueueStreamMax, DefaultQueueStreamMax))
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	ws := principal(c).Workspace.ID
	team, err := s.teamName(ctx, ws, c.Query("team"))
	if err != nil {
		fail(c, err)
		return
	}
	var feed parley.QueueFeed
	var wake <-chan struct{}
	if s.opts.Live != nil {
		f, unsubscribe := s.opts.Live.SubscribeQueue(ws)
		defer unsubscribe()
		feed, wake = f, f.Wake()
	}
	// Subscribed before the first read: nothing committed after it is missed.
	snapshot := func() (queueSnapshot, error) {
		list, next, err := s.store.ListEscalations(ctx, ws, parley.EscalationFilter{Status: parley.Unresolved, Team: team, Limit: queueSnapshotSize})
		return queueSnapshot{Escalations: list, NextAfter: next}, err
	}
	q, err := snapshot()
	if err != nil {
		fail(c, err)
		return
	}
	st := startStream(c)
	// When the stream ends at QueueStreamMax, come back at once.
	st.retry(time.Second)
	sendQueue := func(q queueSnapshot) bool {
		data, _ := json.Marshal(q)
		return st.event("", "queue", data) && st.flush()
	}
	if !sendQueue(q) {
		return
	}
	warn := func(what string, err error) {
		if ctx.Err() == nil {
			logger(c).WarnContext(ctx, "queue stream: "+what, "err", err.Error())
		}
	}
	s.keepStreaming(c, st, wake, func() bool {
		changes, missed := []parley.QueueChange(nil), true
		if feed != nil {
			changes, missed = feed.Changes()
		}
		if missed {
			q, err := snapshot()
			if err != nil {
				warn("read the queue", err)
				return false
			}
			return sendQueue(q)
		}
		for _, ch := range changes {
			e, err := s.store.EscalationItem(ctx, ws, ch.EscalationID)
			switch {
			case parley.ErrorCode(err) == parley.ENotFound:
				continue // deleted with its conversation meanwhile
			case err != nil:
				warn("read escalation", err)
				return false
			case team != "" && e.Team != team:
				continue
			}
			data, _ := json.Marshal(queueChange{Change: ch.Change, Escalation: e})
			if !st.event("", "escalation", data) {
				return false
			}
		}
		return st.flush()
	})
}

// teamName returns the name of the workspace's team named or numbered ref
// ("" for ""); an unknown team is invalid, as in GET /v1/escalations.
func (s *Server) teamName(ctx context.Context, workspaceID, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	teams, err := s.store.ListTeams(ctx, workspaceID)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(teams, func(t parley.Team) bool { return t.Name == ref || t.ID == ref })
	if i < 0 {
		return "", parley.Errorf(parley.EInvalid, "team %q does not exist in this workspace: create it first", ref)
	}
	return teams[i].Name, nil
}
