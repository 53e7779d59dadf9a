package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/webhook"
)

// origins is the API's Origins as parley serve wires it: kept in the
// database, synced by jobs on the queue, previewed in the request.
type origins struct {
	*postgres.DB
	jobs.SyncEnqueuer
	*crawl.Syncer
}

// startSyncJobs starts a job queue of its own running sync jobs with
// syncer, and returns what queues them.
func startSyncJobs(t *testing.T, syncer *crawl.Syncer) jobs.SyncEnqueuer {
	t.Helper()
	db := pgtest.DB(t)
	w := jobs.NewSync(jobs.SyncFunc(func(ctx context.Context, ws, kb string) error {
		_, err := syncer.Sync(ctx, ws, kb)
		return err
	}), nil)
	workers := river.NewWorkers()
	w.Register(workers)
	q := startQueue(t, fmt.Sprintf("sync_%d_%d", time.Now().UnixNano(), queueSeq.Add(1)), workers)
	return w.On(q, db)
}

func helpSite(t *testing.T) *httptest.Server {
	t.Helper()
	pages := map[string]string{
		"/help/":         `<html><head><title>Help</title></head><body><main><h1>Help</h1><p>Welcome.</p><a href="shipping">Shipping</a></main></body></html>`,
		"/help/shipping": `<html><head><title>Shipping</title></head><body><main><h1>Shipping</h1><p>Delivery to Germany takes two business days.</p></main></body></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOriginAndSync(t *testing.T) {
	t.Parallel()
	site := helpSite(t)
	policy := webhook.DestinationPolicy{AllowPrivate: true}
	e := newIngestEnv(t, func(o *api.Options) {
		syncer := crawl.NewSyncer(crawl.New(policy, slog.New(slog.DiscardHandler)), pgtest.DB(t), o.Knowledge)
		o.Origins = origins{pgtest.DB(t), startSyncJobs(t, syncer), syncer}
		o.CrawlPolicy = policy
	})
	status, body := e.do("GET", "/v1/knowledge-bases/faq/origin", e.admin, "")
	wantError(t, status, body, 404, "not_found")
	status, body = e.do("POST", "/v1/knowledge-bases/faq/sync", e.admin, "")
	wantError(t, status, body, 404, "not_found")
	status, body = e.do("POST", "/v1/knowledge-bases/faq/sync?dry_run=true", e.admin, "")
	wantError(t, status, body, 404, "not_found")

	for _, bad := range []string{
		`{"url": "ftp://x.example/"}`,
		`{"url": "` + site.URL + `/help/", "sync_every": "1s"}`,
		`{"url": "` + site.URL + `/help/", "delay": "soon"}`,
		`{"url": "` + site.URL + `/help/", "max_pages": -1}`,
		`{"url": "` + site.URL + `/help/", "unknown": 1}`,
	} {
		status, body := e.do("PUT", "/v1/knowledge-bases/faq/origin", e.admin, bad)
		wantError(t, status, body, 400, "invalid")
	}
	status, body = e.do("PUT", "/v1/knowledge-bases/faq/origin", e.admin,
		fmt.Sprintf(`{"url": "%s/help/", "sync_every": "24h", "delay": "0s", "max_pages": 50}`, site.URL))
	if status != 200 || body["sync_every"] != "24h0m0s" || body["sync"].(map[string]any)["next_sync_at"] == nil {
		t.Fatalf("PUT origin: %d %v", status, body)
	}
	// A dry run crawls and says what a sync would do, writing nothing.
	status, body = e.do("POST", "/v1/knowledge-bases/faq/sync?dry_run=true", e.admin, "")
	pages, _ := body["pages"].(map[string]any)
	if status != 200 || body["dry_run"] != true || body["added"] != 2.0 || body["removed"] != 0.0 ||
		fmt.Sprint(pages["added"]) != fmt.Sprintf("[%[1]s/help/ %[1]s/help/shipping]", site.URL) {
		t.Fatalf("dry run: %d %v, want the 2 pages to add", status, body)
	}
	if n := e.sourceCount(); n != 0 {
		t.Errorf("%d sources after the dry run, want none", n)
	}
	if _, body := e.do("GET", "/v1/knowledge-bases/faq/origin", e.admin, ""); body["sync"].(map[string]any)["state"] != "never" {
		t.Errorf("origin after the dry run: %v, want never synced", body)
	}
	status, body = e.do("POST", "/v1/knowledge-bases/faq/sync?dry_run=maybe", e.admin, "")
	wantError(t, status, body, 400, "invalid")

	status, body = e.do("POST", "/v1/knowledge-bases/faq/sync", e.admin, "")
	if status != 202 || body["sync"].(map[string]any)["state"] != "queued" {
		t.Fatalf("POST sync: %d %v, want 202 and the sync queued", status, body)
	}
	var sync map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status, body = e.do("GET", "/v1/knowledge-bases/faq/origin", e.admin, "")
		sync, _ = body["sync"].(map[string]any)
		if sync["state"] == "succeeded" || sync["state"] == "failed" {
			break
		}
	}
	report, _ := sync["report"].(map[string]any)
	if status != 200 || sync["state"] != "succeeded" || report == nil || report["added"] != 2.0 {
		t.Fatalf("GET origin after sync: %d %v", status, body)
	}
	if n := e.sourceCount(); n != 2 {
		t.Errorf("%d sources after the sync, want 2", n)
	}
	_, widget := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], `{"message": {"text": "How long does delivery to Germany take?"}}`)
	if raw := fmt.Sprint(widget); !strings.Contains(raw, site.URL+"/help/shipping") {
		t.Errorf("the answer does not link to the live page: %v", widget)
	}
}

// A site URL goes through the same address policy as a webhook URL.
func TestOriginAddressPolicy(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) {
		o.Origins = origins{pgtest.DB(t), jobs.SyncEnqueuer{}, nil}
	})
	for url, why := range map[string]string{
		"http://127.0.0.1/help/":         "127.0.0.1 is a loopback address",
		"http://169.254.169.254/latest/": "169.254.169.254 is a link-local address",
		"http://10.0.0.8/help/":          "10.0.0.8 is a private address",
	} {
		status, body := e.do("PUT", "/v1/knowledge-bases/faq/origin", e.admin, `{"url": "`+url+`"}`)
		wantError(t, status, body, 400, "invalid")
		if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, why) {
			t.Errorf("PUT %s: %q, want it to say %q", url, msg, why)
		}
	}
}
