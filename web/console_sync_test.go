package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/web/browsertest"
	"github.com/parleyhq/parley/webhook"
)

// origins is the API's Origins without a job queue: the test syncs
// itself, and the console only previews.
type origins struct {
	*postgres.DB
	jobs.SyncEnqueuer
	*crawl.Syncer
}

// helpCenter is a small site whose pages can change.
type helpCenter struct {
	mu    sync.Mutex
	pages map[string]string
	srv   *httptest.Server
}

func newHelpCenter(t *testing.T) *helpCenter {
	h := &helpCenter{pages: map[string]string{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		body, ok := h.pages[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, body)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *helpCenter) set(path, title, text string, links ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if title == "" {
		delete(h.pages, path)
		return
	}
	var a strings.Builder
	for _, l := range links {
		fmt.Fprintf(&a, `<a href="%s">%s</a> `, l, l)
	}
	h.pages[path] = fmt.Sprintf(`<html><head><title>%s</title></head><body><main><h1>%s</h1><p>%s</p>%s</main></body></html>`, title, title, text, a.String())
}

func TestConsoleSyncPreviewInBrowser(t *testing.T) {
	site := newHelpCenter(t)
	site.set("/help/", "Help", "Welcome to the help center.", "shipping", "returns")
	site.set("/help/shipping", "Shipping", "Delivery to Germany takes two business days.")
	site.set("/help/returns", "Returns", "Return any item within 30 days.")
	policy := webhook.DestinationPolicy{AllowPrivate: true}
	var syncer *crawl.Syncer
	st := newStackWith(t, func(o *api.Options) {
		syncer = crawl.NewSyncer(crawl.New(policy, slog.New(slog.DiscardHandler)), pgtest.DB(t), o.Knowledge)
		o.Origins, o.CrawlPolicy = origins{pgtest.DB(t), jobs.SyncEnqueuer{}, syncer}, policy
	})
	kb := st.call("POST", "/v1/knowledge-bases", st.admin, `{"name": "help"}`, 201)["id"].(string)
	st.call("PUT", "/v1/knowledge-bases/help/origin", st.admin, fmt.Sprintf(`{"url": "%s/help/", "delay": "0s"}`, site.srv.URL), 200)
	ws := st.call("GET", "/v1/workspace", st.admin, "", 200)["id"].(string)
	if _, err := syncer.Sync(context.Background(), ws, kb); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	// Since: shipping changed, returns gone, a new FAQ page.
	site.set("/help/", "Help", "Welcome to the help center.", "shipping", "faq")
	site.set("/help/shipping", "Shipping", "Delivery to Germany now takes one business day.")
	site.set("/help/returns", "", "")
	site.set("/help/faq", "FAQ", "Questions people often ask.")
	sources := func() string {
		return fmt.Sprint(st.call("GET", "/v1/knowledge-bases/help/sources", st.admin, "", 200)["sources"])
	}
	before := sources()

	p := browsertest.New(t, 90*time.Second)
	p.SignIn(st.srv.URL, st.admin)
	p.Do("open the knowledge base", chromedp.Navigate(st.srv.URL+"/app/knowledge/"+kb), chromedp.WaitVisible(chromedp.ID("website")))
	if got := browsertest.Eval[string](p, `document.getElementById('sync-state').textContent`); !strings.Contains(got, "Succeeded") {
		t.Errorf("sync state %q, want the first sync's success", got)
	}
	p.Do("preview the sync by keyboard", chromedp.Focus(chromedp.ID("sync-preview")), chromedp.KeyEvent("\r"))
	p.WaitFor("the preview", `document.getElementById('sync-summary') !== null`, 60*time.Second)
	// The start page changed too: its links did.
	if got := browsertest.Eval[string](p, `document.getElementById('sync-summary').textContent`); !strings.Contains(got, "add: 1, change: 2, remove: 1, leave unchanged: 0") {
		t.Errorf("preview %q, want 1 page added, 2 changed, 1 removed", got)
	}
	for id, want := range map[string]string{"sync-added": "/help/faq", "sync-changed": "/help/shipping", "sync-removed": "/help/returns"} {
		if got := browsertest.Eval[string](p, `document.getElementById('`+id+`').textContent`); !strings.Contains(got, site.srv.URL+want) {
			t.Errorf("%s lists %q, want %s", id, got, want)
		}
	}
	p.Do("open the lists", chromedp.Click(chromedp.CSS("#sync-result details summary")))
	p.Screenshot("preview")
	if after := sources(); after != before {
		t.Errorf("the preview changed the sources:\n%s\nbefore:\n%s", after, before)
	}

	p.Do("a 360 px wide screen in German", chromedp.EmulateViewport(360, 740), chromedp.Navigate(st.srv.URL+"/app/knowledge/"+kb+"?lang=de"),
		chromedp.WaitVisible(chromedp.ID("website")))
	p.Do("preview in German", chromedp.Click(chromedp.ID("sync-preview")))
	p.WaitFor("the German preview", `document.getElementById('sync-summary') !== null`, 60*time.Second)
	if !browsertest.Eval[bool](p, text("#sync-summary", "Probelauf, nichts geschrieben")) {
		t.Error("the German preview is not in German")
	}
	browsertest.Eval[bool](p, `(document.getElementById('website').scrollIntoView(), true)`)
	p.NoHorizontalOverflow()
	p.Screenshot("preview-phone-de")
	p.NoErrors()
}
