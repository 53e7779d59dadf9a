package main

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// parley serve deletes expired console sessions of every workspace in the
// background, not only when someone signs in to the same workspace.
func TestServeDeletesExpiredSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	lim := parley.SessionLimits{Idle: 30 * time.Minute, Max: 24 * time.Hour}
	session := func(name string) []byte {
		ws := pgtest.Workspace(t)
		k, _, err := db.CreateKey(ctx, ws.ID, name, parley.RoleAgent)
		if err != nil {
			t.Fatal(err)
		}
		hash := []byte("serve sweep " + name + " " + ws.ID)
		if err := db.CreateSession(ctx, hash, parley.Principal{Workspace: ws, KeyID: k.ID, Role: parley.RoleAgent}, lim); err != nil {
			t.Fatal(err)
		}
		return hash
	}
	live, expired := session("live"), session("expired")
	if _, err := db.Pool().Exec(ctx, `UPDATE console_sessions SET last_seen_at = now() - interval '1 hour' WHERE token_hash = $1`, expired); err != nil {
		t.Fatal(err)
	}
	count := func(hash []byte) int {
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM console_sessions WHERE token_hash = $1`, hash).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	startServer(t, "PARLEY_CONSOLE_SESSION_IDLE=30m", "PARLEY_LOG_LEVEL=warn")
	for deadline := time.Now().Add(time.Minute); count(expired) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the expired session of another workspace is still there a minute after the server started")
		}
	}
	if count(live) != 1 {
		t.Error("the server deleted a live session")
	}
}
