package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// newLiveEnv is newEnv with live event delivery through LISTEN/NOTIFY.
func newLiveEnv(t *testing.T, set func(*api.Options)) *env {
	t.Helper()
	n := pgtest.Listening(t, pgtest.DB(t))
	return newEnvWith(t, func(o *api.Options) {
		o.Live = n
		if set != nil {
			set(o)
		}
	})
}

// replica is a second server for e's workspace and keys, as another
// process would be: its own pool and notifier on the same database.
func replica(t *testing.T, e *env) (*env, *postgres.Notifier) {
	t.Helper()
	db2, err := postgres.Open(context.Background(), pgtest.URL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db2.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := pgtest.Listening(t, db2)
	s2 := api.New(db2, reply.New(db2, retrieval.NewLocal(), reply.Options{Language: detector, Classifiers: db2, Logger: log}), api.Options{Logger: log, MaxBodyBytes: testBodyLimit, Ready: db2.Ping, Live: n})
	srv2 := httptest.NewServer(s2)
	t.Cleanup(srv2.Close)
	return &env{t: t, srv: srv2, server: s2, ws: e.ws, keys: e.keys}, n
}

// The visitor's stream is on one replica, the agent's reply goes to
// another: each has its own pool and notifier on the same database, as
// two processes would, and the reply arrives through PostgreSQL.
func TestLiveDeliveryAcrossReplicas(t *testing.T) {
	t.Parallel()
	agentSide := newEnv(t) // no notifier: it only writes
	key := agentSide.widgetKey(shop)
	agentSide.create("/v1/teams", `{"name": "support"}`)
	ada := agentSide.create("/v1/agents", `{"name": "Ada", "team": "support"}`)

	visitorSide, n := replica(t, agentSide)

	b := &browser{e: visitorSide, key: key, origin: shop}
	b.session(nil)
	conv := b.say("", "I want to talk to a human")["conversation_id"].(string)
	stream := b.events(conv, "")
	defer stream.close()
	stream.until(t, func(ev event) bool { return ev.kind == "state" && strings.Contains(ev.data, "waiting") })

	claimed := false
	for _, text := range []string{"Hello from replica A", "Second reply"} {
		sent := time.Now()
		if status, body := agentSide.do("POST", "/v1/conversations/"+conv+"/messages", agentSide.keys[parley.RoleAgent], `{"agent_id": "`+ada+`", "text": "`+text+`"}`); status != 200 {
			t.Fatalf("agent reply on replica A: %d %v", status, body)
		}
		for _, ev := range stream.until(t, func(ev event) bool { return ev.kind == "message" && strings.Contains(ev.data, text) }) {
			claimed = claimed || ev.kind == "state" && strings.Contains(ev.data, "agent")
		}
		t.Logf("%q reached the stream on replica B in %v", text, time.Since(sent).Round(time.Millisecond))
	}
	if !claimed {
		// The state event follows the first reply's message event.
		stream.until(t, func(ev event) bool { return ev.kind == "state" && strings.Contains(ev.data, "agent") })
	}
	if n.Subscribers() != 1 {
		t.Fatalf("%d subscriptions on replica B, want the one stream", n.Subscribers())
	}
}
