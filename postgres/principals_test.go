package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// Two replicas, db and other, on one database: other keeps a key it has
// read for ttl. A change made through other holds there at once; one made
// through db reaches other within ttl. Keys never stand in for each other.
func TestAuthenticateCachesValidKeysForTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	other, err := postgres.Open(ctx, pgtest.URL(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const ttl = time.Second
	other.SetPrincipalTTL(ttl)

	wsA, wsB := pgtest.Workspace(t), pgtest.Workspace(t)
	keyA, secretA, err := db.CreateKey(ctx, wsA.ID, "a", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	keyB, secretB, err := db.CreateKey(ctx, wsB.ID, "b", parley.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	auth := func(secret string) (parley.Principal, error) { return other.Authenticate(ctx, secret) }
	wantWorkspace := func(step, secret string, ws parley.Workspace, key parley.APIKey) parley.Principal {
		t.Helper()
		p, err := auth(secret)
		if err != nil || p.Workspace.ID != ws.ID || p.KeyID != key.ID || p.Role != key.Role {
			t.Fatalf("%s: Authenticate = %+v, %v; want workspace %s, key %s", step, p, err, ws.ID, key.ID)
		}
		return p
	}
	wantRefused := func(step, secret, mention string) {
		t.Helper()
		if _, err := auth(secret); parley.ErrorCode(err) != parley.EUnauthorized || !strings.Contains(err.Error(), mention) {
			t.Fatalf("%s: Authenticate = %v, want unauthorized mentioning %q", step, err, mention)
		}
	}
	read := time.Now() // the keys are read no sooner than this
	for range 2 {      // read, then cached: each key still its own workspace's
		wantWorkspace("key A", secretA, wsA, keyA)
		wantWorkspace("key B", secretB, wsB, keyB)
		wantRefused("unknown key", "prly_"+strings.Repeat("A", 32), "invalid")
		wantRefused("key A altered", secretA+"x", "invalid")
	}
	readDone := time.Now() // and no later than this

	// Revoked and settings changed through the other replica: other
	// serves the keys as it read them until ttl has passed, no longer.
	if _, err := db.RevokeKey(ctx, keyA.ID); err != nil {
		t.Fatal(err)
	}
	settings := wsB.Settings
	settings.AnswerThreshold = 0.77
	if _, err := db.UpdateSettings(ctx, wsB.ID, settings); err != nil {
		t.Fatal(err)
	}
	_, errA := auth(secretA)
	pB, errB := auth(secretB)
	if time.Since(read) < ttl { // else this machine was too slow to tell
		if errA != nil || errB != nil || pB.Workspace.Settings.AnswerThreshold == 0.77 {
			t.Fatalf("within the ttl: key A %v, key B %v (threshold %v): want both as first read", errA, errB, pB.Workspace.Settings.AnswerThreshold)
		}
	}
	time.Sleep(time.Until(readDone.Add(ttl)))
	wantRefused("key A revoked elsewhere, after the ttl", secretA, "revoked")
	if p := wantWorkspace("key B after the ttl", secretB, wsB, keyB); p.Workspace.Settings.AnswerThreshold != 0.77 {
		t.Fatalf("after the ttl: answer threshold %v, want 0.77", p.Workspace.Settings.AnswerThreshold)
	}

	// Through this replica: at once.
	settings.AnswerThreshold = 0.66
	if _, err := other.UpdateSettings(ctx, wsB.ID, settings); err != nil {
		t.Fatal(err)
	}
	if p := wantWorkspace("key B, settings changed here", secretB, wsB, keyB); p.Workspace.Settings.AnswerThreshold != 0.66 {
		t.Fatalf("settings changed here: answer threshold %v, want 0.66", p.Workspace.Settings.AnswerThreshold)
	}
	if _, err := other.RevokeKey(ctx, keyB.ID); err != nil {
		t.Fatal(err)
	}
	wantRefused("key B revoked here", secretB, "revoked")
}
