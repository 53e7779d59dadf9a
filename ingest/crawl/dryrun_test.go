package crawl_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/parleyhq/parley/postgres"
)

// rows counts the knowledge base's sources and chunks as stored.
func rows(t *testing.T, db *postgres.DB, kbID string) [2]int {
	t.Helper()
	var n [2]int
	err := db.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM sources WHERE kb_id = $1), (SELECT count(*) FROM chunks c JOIN sources s ON s.id = c.source_id WHERE s.kb_id = $1)`,
		kbID).Scan(&n[0], &n[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A dry run lists what a sync would add, change, remove and keep, and
// writes nothing: neither the knowledge nor the origin's state and pages.
// The sync after it does what it said.
func TestSyncDryRun(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	db, syncer, ws, kb := syncEnv(t, s, "")
	ctx := context.Background()
	if _, err := syncer.Sync(ctx, ws.ID, kb.ID); err != nil {
		t.Fatalf("first sync: %v", err)
	}

	s.set("/help/shipping", page("Shipping", "Delivery to Germany now takes one business day.", "/help/", "/help/faq"))
	s.set("/help/faq", page("FAQ", "Questions people ask about plants."))
	s.set("/help/returns", "")
	rowsBefore := rows(t, db, kb.ID)
	hashesBefore, err := db.SourceHashes(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatal(err)
	}
	originBefore, err := db.Origin(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatal(err)
	}

	p, err := syncer.DryRun(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	u := func(path string) string { return s.srv.URL + path }
	if !p.DryRun || p.Added != 1 || p.Changed != 1 || p.Removed != 1 || p.Unchanged != 3 || !p.Complete {
		t.Errorf("dry run counts: %+v, want 1 added, 1 changed, 1 removed, 3 unchanged", p)
	}
	for name, c := range map[string]struct{ got, want []string }{
		"added":   {p.Pages.Added, []string{u("/help/faq")}},
		"changed": {p.Pages.Changed, []string{u("/help/shipping")}},
		"removed": {p.Pages.Removed, []string{u("/help/returns")}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s pages %v, want %v", name, c.got, c.want)
		}
	}
	if len(p.Pages.Unchanged) != 3 || !slices.Contains(p.Pages.Unchanged, u("/help/")) {
		t.Errorf("unchanged pages %v, want 3 with the start page", p.Pages.Unchanged)
	}

	if got := rows(t, db, kb.ID); got != rowsBefore {
		t.Errorf("sources and chunks %v after the dry run, %v before", got, rowsBefore)
	}
	if got, err := db.SourceHashes(ctx, ws.ID, kb.ID); err != nil || !reflect.DeepEqual(got, hashesBefore) {
		t.Errorf("the dry run changed the sources: %v, before %v", got, hashesBefore)
	}
	o, err := db.Origin(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Pages) != string(originBefore.Pages) || o.SyncState != originBefore.SyncState ||
		string(o.SyncReport) != string(originBefore.SyncReport) || !o.UpdatedAt.Equal(originBefore.UpdatedAt) {
		t.Errorf("the dry run changed the origin: state %q report %s", o.SyncState, o.SyncReport)
	}

	rep, err := syncer.Sync(ctx, ws.ID, kb.ID)
	if err != nil {
		t.Fatalf("sync after the dry run: %v", err)
	}
	if rep.Added != p.Added || rep.Updated != p.Changed || rep.Pruned != p.Removed || rep.Unchanged != p.Unchanged {
		t.Errorf("the sync did %+v, the dry run said %+v", rep.Result, p)
	}
}
