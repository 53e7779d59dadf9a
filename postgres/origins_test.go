package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// An origin's schedule: due syncs are claimed once (a second claim finds
// nothing) and move one period on; a new URL forgets the crawled pages; a
// failed sync keeps them.
func TestOriginSchedule(t *testing.T) {
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	ctx := context.Background()
	kb, _, err := db.EnsureKB(ctx, ws.ID, "site")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Origin(ctx, ws.ID, kb.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("origin of a knowledge base without one: %v, want not found", err)
	}
	o, err := db.SetOrigin(ctx, parley.Origin{KBID: kb.ID, WorkspaceID: ws.ID, URL: "https://help.example.com/", SyncEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if o.NextSyncAt == nil || time.Until(*o.NextSyncAt) < 59*time.Minute {
		t.Fatalf("next sync at %v, want an hour from now", o.NextSyncAt)
	}
	pages := json.RawMessage(`{"https://help.example.com/a": {"id": "https://help.example.com/a", "depth": 1}}`)
	if err := db.FinishOriginSync(ctx, parley.OriginSync{KBID: kb.ID, Pages: pages, Report: json.RawMessage(`{"added": 1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishOriginSync(ctx, parley.OriginSync{KBID: kb.ID, Error: "site down; nothing was written", Report: json.RawMessage(`{"added": 0}`)}); err != nil {
		t.Fatal(err)
	}
	o, _ = db.Origin(ctx, ws.ID, kb.ID)
	if o.SyncState != parley.JobFailed || len(o.Pages) < 10 {
		t.Errorf("after a failed sync: state %q, pages %s; want failed with the pages kept", o.SyncState, o.Pages)
	}

	if _, err := db.Pool().Exec(ctx, `UPDATE kb_origins SET next_sync_at = now() - interval '1 minute' WHERE kb_id = $1`, kb.ID); err != nil {
		t.Fatal(err)
	}
	due, err := db.ClaimDueOrigins(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	claimed := 0
	for _, d := range due {
		if d.KBID == kb.ID {
			claimed++
			if d.SyncState != parley.JobQueued || d.NextSyncAt == nil || time.Until(*d.NextSyncAt) < 59*time.Minute {
				t.Errorf("claimed origin: state %q next %v", d.SyncState, d.NextSyncAt)
			}
		}
	}
	if claimed != 1 {
		t.Fatalf("claimed %d times, want once", claimed)
	}
	again, _ := db.ClaimDueOrigins(ctx, 1000)
	for _, d := range again {
		if d.KBID == kb.ID {
			t.Errorf("claimed a second time")
		}
	}

	o, err = db.SetOrigin(ctx, parley.Origin{KBID: kb.ID, WorkspaceID: ws.ID, URL: "https://docs.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Pages) != "{}" || o.NextSyncAt != nil {
		t.Errorf("new URL without schedule: pages %s, next %v; want none", o.Pages, o.NextSyncAt)
	}
}
