package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)

	k, secret, err := db.CreateKey(ctx, ws.ID, "widget on site", parley.RoleWidget)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, k.Prefix) || len(secret) < 30 {
		t.Fatalf("secret %q does not start with prefix %q or is short", secret, k.Prefix)
	}
	p, err := db.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.Workspace.ID != ws.ID || p.Workspace.Name != ws.Name || p.Workspace.Settings.AnswerThreshold != ws.Settings.AnswerThreshold || p.Role != parley.RoleWidget || p.KeyID != k.ID {
		t.Fatalf("principal %+v, want workspace %s role widget key %s", p, ws.ID, k.ID)
	}

	for _, bad := range []string{"", "nope", secret + "x", "prly_" + strings.Repeat("A", 32)} {
		if _, err := db.Authenticate(ctx, bad); parley.ErrorCode(err) != parley.EUnauthorized {
			t.Errorf("Authenticate(%q) = %v, want unauthorized", bad, err)
		}
	}

	if _, err := db.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.Authenticate(ctx, secret)
	if parley.ErrorCode(err) != parley.EUnauthorized || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked key: got %v, want unauthorized mentioning revoked", err)
	}
	if _, err := db.RevokeKey(ctx, "00000000-0000-0000-0000-000000000000"); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("revoke unknown key: got %v, want not_found", err)
	}

	keys, err := db.ListKeys(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].RevokedAt == nil || keys[0].LastUsedAt == nil {
		t.Fatalf("ListKeys = %+v, want one revoked key with a last use", keys)
	}
}

func TestEnsureWorkspaceIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	again, created, err := db.EnsureWorkspace(ctx, ws.Name)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != ws.ID {
		t.Fatalf("second EnsureWorkspace created=%v id=%s, want existing %s", created, again.ID, ws.ID)
	}
	if again.Settings.AnswerThreshold != parley.DefaultSettings().AnswerThreshold {
		t.Errorf("settings %+v, want defaults", again.Settings)
	}
	for _, bad := range []string{"", "Upper", "has space", strings.Repeat("a", 64), "../x"} {
		if _, _, err := db.EnsureWorkspace(ctx, bad); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("EnsureWorkspace(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestUpdateSettingsValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	s := ws.Settings
	s.AnswerThreshold = 1.5
	if _, err := db.UpdateSettings(ctx, ws.ID, s); parley.ErrorCode(err) != parley.EInvalid {
		t.Fatalf("threshold 1.5: got %v, want invalid", err)
	}
	s.AnswerThreshold = 0.72
	s.Sensitive = []string{"refund"}
	got, err := db.UpdateSettings(ctx, ws.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings.AnswerThreshold != 0.72 || len(got.Settings.Sensitive) != 1 {
		t.Fatalf("settings after update %+v", got.Settings)
	}
}
