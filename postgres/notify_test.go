package postgres_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// announce sends count queue notifications for the workspace, as
// migration 0018's triggers do, each for another escalation unless id is
// given.
func announce(t *testing.T, db *postgres.DB, workspaceID, id, change string, count int) {
	t.Helper()
	_, err := db.Pool().Exec(context.Background(), `SELECT pg_notify('parley_queue', json_build_object(
			'workspace_id', $1::uuid, 'escalation_id', coalesce(nullif($2, '')::uuid, gen_random_uuid()), 'change', $3::text)::text)
		FROM generate_series(1, $4)`, workspaceID, id, change, count)
	if err != nil {
		t.Fatal(err)
	}
}

// changes waits for the feed's next wake-up and takes what it has.
func changes(t *testing.T, f parley.QueueFeed) ([]parley.QueueChange, bool) {
	t.Helper()
	select {
	case <-f.Wake():
		return f.Changes()
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up within 5 s")
		return nil, false
	}
}

// A queue feed gets its workspace's changes, each once while waiting, and
// reports them missed when too many wait.
func TestQueueFeed(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	n := pgtest.Listening(t, db)
	ws, other := pgtest.Workspace(t), pgtest.Workspace(t)
	feed, unsubscribe := n.SubscribeQueue(ws.ID)
	defer unsubscribe()
	// Notifications arrive in commit order: once the other workspace's
	// feed has the one sent last, the notifier has handled those before.
	sentinel, unsubscribeOther := n.SubscribeQueue(other.ID)
	defer unsubscribeOther()
	handled := func() {
		t.Helper()
		announce(t, db, other.ID, "", parley.ChangeCreated, 1)
		for {
			c, _ := changes(t, sentinel)
			if len(c) > 0 {
				return
			}
		}
	}
	// The first LISTEN may come after the subscriptions: then the feeds
	// start with a miss.
	handled()
	feed.Changes()

	esc := "6f1c1d0e-5a9b-4d2e-8c3f-0a1b2c3d4e5f"
	announce(t, db, ws.ID, esc, parley.ChangeCreated, 1)
	announce(t, db, ws.ID, esc, parley.ChangeMessage, 1)
	announce(t, db, ws.ID, esc, parley.ChangeMessage, 1)
	announce(t, db, ws.ID, esc, parley.ChangeClaimed, 1)
	handled()
	got, missed := changes(t, feed)
	want := []parley.QueueChange{{EscalationID: esc, Change: "created"}, {EscalationID: esc, Change: "message"}, {EscalationID: esc, Change: "claimed"}}
	if missed || !slices.Equal(got, want) {
		t.Fatalf("changes %v (missed %v), want %v: the two messages once, nothing of the other workspace", got, missed, want)
	}

	// 300 changes while the stream is busy: more than a feed keeps.
	announce(t, db, ws.ID, "", parley.ChangeCreated, 300)
	handled()
	if got, missed := changes(t, feed); !missed || len(got) != 0 {
		t.Fatalf("after an overflow: %d changes, missed %v; want none and missed (the stream reads the queue)", len(got), missed)
	}
	if n.Subscribers() != 2 {
		t.Fatalf("%d subscribers, want 2", n.Subscribers())
	}
	unsubscribe()
	unsubscribeOther()
	if n.Subscribers() != 0 {
		t.Fatalf("%d subscribers after unsubscribing, want 0", n.Subscribers())
	}
}

// BenchmarkHandoff measures handoffs written by 16 writers at once, with and
// without the announcement to agents' queues that follows each (a
// statement of its own that does not wait for the disk):
//
//	go test -run '^$' -bench BenchmarkHandoff -benchtime 5s ./postgres/
func BenchmarkHandoff(b *testing.B) {
	db := pgtest.FreshDB(b, 16)
	ctx := context.Background()
	ws, _, err := db.EnsureWorkspace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for _, announce := range []bool{false, true} {
		b.Run(map[bool]string{false: "escalate", true: "escalate+announce"}[announce], func(b *testing.B) {
			b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					conv, err := db.CreateConversation(ctx, ws.ID, "chat", parley.Customer{}, "en")
					if err != nil {
						b.Error(err)
						return
					}
					_, _, err = db.Escalate(ctx, parley.NewEscalation{WorkspaceID: ws.ID, ConversationID: conv.ID, Reason: parley.ReasonHumanRequested,
						CustomerNotice: "Someone will reply.", Context: parley.EscalationContext{Question: "a person please", Candidates: []byte("[]")}})
					if err == nil && announce {
						err = db.AnnounceQueueChange(ctx, ws.ID, conv.ID, parley.ChangeCreated)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
