package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// notifyChannel is where migration 0007's triggers announce, with the
// conversation id, what a visitor must hear about: an agent's or a system
// message, a change of state. queueChannel is where migration 0018's
// announce changes of a workspace's escalations to agents.
const (
	notifyChannel = "parley_conversation"
	queueChannel  = "parley_queue"
)

// Notifier hands the conversation notifications to this process's
// subscribers (the widget's event streams), and the queue notifications to
// agents' queue streams. It holds one connection of its own, outside the
// pool, that LISTENs; every replica runs one, so a reply committed on any
// replica reaches the streams on all of them.
type Notifier struct {
	db  *DB
	log *slog.Logger

	mu        sync.Mutex
	subs      map[string]map[chan struct{}]struct{}
	queues    map[string]map[*queueFeed]struct{} // by workspace
	listening chan struct{}                      // closed once the first LISTEN is in place
	once      sync.Once
}

// NewNotifier returns a notifier; Run makes it listen.
func (db *DB) NewNotifier(log *slog.Logger) *Notifier {
	return &Notifier{db: db, log: log, subs: map[string]map[chan struct{}]struct{}{},
		queues: map[string]map[*queueFeed]struct{}{}, listening: make(chan struct{})}
}

// Subscribe returns a channel that gets a (coalesced) wake-up whenever the
// conversation has news, and a function that ends the subscription.
// Subscribers also get one when the notifier reconnects after losing its
// connection: they re-read what they may have missed.
func (n *Notifier) Subscribe(conversationID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	set := n.subs[conversationID]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		n.subs[conversationID] = set
	}
	set[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(set, ch)
		if len(n.subs[conversationID]) == 0 { // ours, now empty (a newer set is never empty)
			delete(n.subs, conversationID)
		}
		n.mu.Unlock()
	}
}

// SubscribeQueue returns a feed of the changes of the workspace's
// escalations, and a function that ends the subscription. When the
// notifier reconnects after losing its connection, every feed reports
// changes missed.
func (n *Notifier) SubscribeQueue(workspaceID string) (parley.QueueFeed, func()) {
	f := &queueFeed{wake: make(chan struct{}, 1)}
	n.mu.Lock()
	set := n.queues[workspaceID]
	if set == nil {
		set = map[*queueFeed]struct{}{}
		n.queues[workspaceID] = set
	}
	set[f] = struct{}{}
	n.mu.Unlock()
	return f, func() {
		n.mu.Lock()
		delete(set, f)
		if len(n.queues[workspaceID]) == 0 {
			delete(n.queues, workspaceID)
		}
		n.mu.Unlock()
	}
}

// Listening is closed once the notifier first listens.
func (n *Notifier) Listening() <-chan struct{} { return n.listening }

// Subscribers returns how many subscriptions (conversations' and queues')
// are open.
func (n *Notifier) Subscribers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, set := range n.subs {
		total += len(set)
	}
	for _, set := range n.queues {
		total += len(set)
	}
	return total
}

// Run listens until ctx ends, reconnecting (with backoff up to 30 s) when
// the connection is lost.
func (n *Notifier) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		err := n.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		n.log.WarnContext(ctx, "conversation notifications: connection lost, reconnecting", "err", err.Error(), "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (n *Notifier) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, n.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel+"; LISTEN "+queueChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// What was committed while nobody listened is read by everyone again.
	n.wakeAll()
	n.once.Do(func() { close(n.listening) })
	for {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		if note.Channel == queueChannel {
			n.queueChange(ctx, note.Payload)
			continue
		}
		n.wake(note.Payload)
	}
}

// queueNote is the payload of a queue notification.
type queueNote struct {
	WorkspaceID  string `json:"workspace_id"`
	EscalationID string `json:"escalation_id"`
	Change       string `json:"change"`
}

func (n *Notifier) queueChange(ctx context.Context, payload string) {
	var note queueNote
	if err := json.Unmarshal([]byte(payload), &note); err != nil {
		n.log.WarnContext(ctx, "queue notification: unreadable payload", "err", err.Error())
		return
	}
	change := parley.QueueChange{EscalationID: note.EscalationID, Change: note.Change}
	n.mu.Lock()
	defer n.mu.Unlock()
	for f := range n.queues[note.WorkspaceID] {
		f.add(change)
	}
}

func (n *Notifier) wake(conversationID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[conversationID] {
		poke(ch)
	}
}

func (n *Notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, set := range n.subs {
		for ch := range set {
			poke(ch)
		}
	}
	for _, set := range n.queues {
		for f := range set {
			f.lose()
		}
	}
}

// poke wakes a subscriber unless a wake-up is already pending.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// maxPendingChanges is the most changes a queue feed keeps for a stream
// that has not taken them; past it the feed reports them missed.
const maxPendingChanges = 256

// queueFeed is one queue subscription: the changes not yet taken.
type queueFeed struct {
	wake    chan struct{}
	mu      sync.Mutex
	pending []parley.QueueChange
	missed  bool
}

func (f *queueFeed) Wake() <-chan struct{} { return f.wake }

func (f *queueFeed) Changes() ([]parley.QueueChange, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	changes, missed := f.pending, f.missed
	f.pending, f.missed = nil, false
	return changes, missed
}

// add keeps a change (once, if it is already waiting) and wakes the
// stream.
func (f *queueFeed) add(c parley.QueueChange) {
	f.mu.Lock()
	switch {
	case f.missed, slices.Contains(f.pending, c):
	case len(f.pending) == maxPendingChanges:
		f.pending, f.missed = nil, true
	default:
		f.pending = append(f.pending, c)
	}
	f.mu.Unlock()
	poke(f.wake)
}

// lose drops the waiting changes and reports them missed.
func (f *queueFeed) lose() {
	f.mu.Lock()
	f.pending, f.missed = nil, true
	f.mu.Unlock()
	poke(f.wake)
}
