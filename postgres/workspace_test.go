package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleyhq/parley/postgres/pgtest"
)

// The workspaces' languages are listed once each, however many workspaces
// serve them (serve loads their language models at start).
func TestWorkspaceLanguages(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	ctx := context.Background()
	for _, langs := range [][]string{{"sv", "en"}, {"pt-BR", "sv"}} {
		ws := pgtest.Workspace(t)
		s := ws.Settings
		s.Languages = langs
		if _, err := db.UpdateSettings(ctx, ws.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.WorkspaceLanguages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sv", "en", "pt-BR"} {
		if n := len(slices.DeleteFunc(slices.Clone(got), func(l string) bool { return l != want })); n != 1 {
			t.Errorf("WorkspaceLanguages() = %v, want %s once", got, want)
		}
	}
}
