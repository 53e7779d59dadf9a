package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// The periodic sweep deletes expired sessions of every workspace (not only
// the one someone signs in to), and those of revoked keys; live ones stay.
func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	lim := parley.SessionLimits{Idle: 30 * time.Minute, Max: 24 * time.Hour}
	session := func(name string) (parley.Principal, []byte) {
		ws := pgtest.Workspace(t)
		k, _, err := db.CreateKey(ctx, ws.ID, name, parley.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		p := parley.Principal{Workspace: ws, KeyID: k.ID, Role: parley.RoleAdmin}
		hash := []byte("token of " + name + " " + ws.ID)
		if err := db.CreateSession(ctx, hash, p, lim); err != nil {
			t.Fatal(err)
		}
		return p, hash
	}
	_, live := session("live")
	_, idle := session("idle")
	_, old := session("old")
	revokedBy, revoked := session("revoked")
	// Age them as time would: idle an hour; signed in two days ago but used just now.
	if _, err := db.Pool().Exec(ctx, `UPDATE console_sessions SET last_seen_at = now() - interval '1 hour' WHERE token_hash = $1`, idle); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE console_sessions SET created_at = now() - interval '2 days' WHERE token_hash = $1`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeKey(ctx, revokedBy.KeyID); err != nil {
		t.Fatal(err)
	}

	n, err := db.DeleteExpiredSessions(ctx, lim)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests' sessions may be swept too: count at least ours.
	if n < 3 {
		t.Errorf("deleted %d sessions, want at least the 3 expired ones", n)
	}
	for name, hash := range map[string][]byte{"live": live, "idle": idle, "old": old, "revoked": revoked} {
		var left int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM console_sessions WHERE token_hash = $1`, hash).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[name == "live"]; left != want {
			t.Errorf("%s session: %d rows left, want %d", name, left, want)
		}
	}
	if _, err := db.Session(ctx, live, lim); err != nil {
		t.Errorf("the live session after the sweep: %v", err)
	}
}
