package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/postgres/pgtest"
)

// parley ingest URL crawls a site into a knowledge base and keeps it as
// the origin; parley sync syncs it again; a loopback site needs
// PARLEY_CRAWL_ALLOW_PRIVATE.
func TestIngestWebsiteAndSync(t *testing.T) {
	t.Parallel()
	var version atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/help/":
			io.WriteString(w, `<html><head><title>Help</title></head><body><main><h1>Help</h1><p>Welcome to the help center.</p><a href="returns">Returns</a></main></body></html>`)
		case "/help/returns":
			if version.Load() == 1 {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, `<html><head><title>Returns</title></head><body><main><h1>Returns</h1><p>Return plants within 30 days.</p></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ws := pgtest.Workspace(t).Name
	args := []string{"ingest", srv.URL + "/help/", "--workspace", ws, "--kb", "site", "--kind", "article", "--delay", "0s", "--sync-every", "24h"}
	if _, _, err := cli(t, nil, args...); err == nil || !strings.Contains(err.Error(), "loopback address") {
		t.Fatalf("crawl of a loopback site without PARLEY_CRAWL_ALLOW_PRIVATE: %v", err)
	}
	private := map[string]string{"PARLEY_CRAWL_ALLOW_PRIVATE": "true"}
	out, _, err := cli(t, private, args...)
	if err != nil || !strings.Contains(out, "2 added") {
		t.Fatalf("ingest URL: %v %s", err, out)
	}
	version.Store(1)
	out, _, err = cli(t, private, "sync", "--workspace", ws, "--kb", "site")
	if err != nil || !strings.Contains(out, "0 added, 0 updated, 1 unchanged, 1 pruned") {
		t.Fatalf("sync after a page went away: %v %s", err, out)
	}
	if _, _, err := cli(t, private, "sync", "--workspace", ws); err == nil {
		t.Fatal("sync without --kb succeeded")
	}
}
