package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is where migration 0007's triggers announce, with the
// conversation id, what a visitor must hear about: an agent's or a system
// message, a change of state.
const notifyChannel = "parley_conversation"

// Notifier hands the conversation notifications to this process's
// subscribers (the widget's event streams). It holds one connection of its
// own, outside the pool, that LISTENs; every replica runs one, so a reply
// committed on any replica reaches the streams on all of them.
type Notifier struct {
	db  *DB
	log *slog.Logger

	mu        sync.Mutex
	subs      map[string]map[chan struct{}]struct{}
	listening chan struct{} // closed once the first LISTEN is in place
	once      sync.Once
}

// NewNotifier returns a notifier; Run makes it listen.
func (db *DB) NewNotifier(log *slog.Logger) *Notifier {
	return &Notifier{db: db, log: log, subs: map[string]map[chan struct{}]struct{}{}, listening: make(chan struct{})}
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

// Listening is closed once the notifier first listens.
func (n *Notifier) Listening() <-chan struct{} { return n.listening }

// Subscribers returns how many subscriptions are open.
func (n *Notifier) Subscribers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, set := range n.subs {
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
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
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
		n.wake(note.Payload)
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
}

// poke wakes a subscriber unless a wake-up is already pending.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
