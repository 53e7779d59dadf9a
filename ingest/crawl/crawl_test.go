package crawl_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/webhook"
)

// site is a help center served by the test: pages by path, each with an
// ETag, and a log of the paths requested.
type site struct {
	mu       sync.Mutex
	pages    map[string]string // path → HTML
	robots   string
	down     string // a path that answers 503
	requests []string
	times    map[string][]time.Time
	srv      *httptest.Server
}

func page(title, body string, links ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><title>%s</title></head><body>", title)
	b.WriteString(`<nav><a href="/help/">Home</a> Navigation menu</nav><div class="cookie-banner">We use cookies. Accept cookies?</div>`)
	fmt.Fprintf(&b, "<main><h1>%s</h1><p>%s</p>", title, body)
	for _, l := range links {
		fmt.Fprintf(&b, `<a href="%s">link</a> `, l)
	}
	b.WriteString("</main><footer>Copyright Acme footer</footer></body></html>")
	return b.String()
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{times: map[string][]time.Time{}}
	s.pages = map[string]string{
		"/help/":               page("Help center", "Welcome to the Acme help center.", "/help/shipping", "shipping", "/help/private/secret", "http://elsewhere.example/help/x", "/blog/post", "/help/loop", "/help/redirect", "/help/away", "/help/redir-loop", "/help/error", "/help/slow", "/help/huge", "/help/hidden", "/help/alias#top"),
		"/help/shipping":       page("Shipping", "Delivery to Germany takes two business days.", "/help/"),
		"/help/returns":        page("Returns", "Return any plant within 30 days for a full refund."), // only in the sitemap
		"/help/loop":           page("Loop", "This page links to itself.", "/help/loop", "/help/loop?x=1#a"),
		"/help/loop?x=1":       page("Loop again", "The same loop with a query."),
		"/help/alias":          `<html><head><title>Alias</title><link rel="canonical" href="/help/shipping"></head><body><main><p>Shipping again, under another address.</p></main></body></html>`,
		"/help/hidden":         `<html><head><meta name="robots" content="noindex"><title>Hidden</title></head><body><p>Not for the index.</p></body></html>`,
		"/help/private/secret": page("Secret", "Must never be fetched."),
	}
	s.robots = "User-agent: *\nDisallow: /help/private\nSitemap: /sitemap.xml\n"
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	s.times[r.URL.Path] = append(s.times[r.URL.Path], time.Now())
	robots, down := s.robots, s.down
	body, ok := s.pages[r.URL.RequestURI()]
	s.mu.Unlock()
	if r.URL.Path == down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/robots.txt":
		if robots == "" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, robots)
		return
	case "/sitemap.xml":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%[1]s/help/shipping</loc></url><url><loc>%[1]s/help/returns</loc></url></urlset>`, s.srv.URL)
		return
	case "/help/redirect":
		http.Redirect(w, r, "/help/shipping", http.StatusMovedPermanently)
		return
	case "/help/away":
		http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
		return
	case "/help/redir-loop":
		http.Redirect(w, r, "/help/redir-loop2", http.StatusFound)
		return
	case "/help/redir-loop2":
		http.Redirect(w, r, "/help/redir-loop", http.StatusFound)
		return
	case "/help/error":
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case "/help/slow":
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		return
	case "/help/huge":
		w.Header().Set("Content-Type", "text/html")
		chunk := strings.Repeat("<p>filler text</p>", 1000)
		for written := 0; written < 20<<20; written += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%x"`, len(body)*31+int(body[len(body)/2]))
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, body)
}

func (s *site) set(path, html string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if html == "" {
		delete(s.pages, path)
	} else {
		s.pages[path] = html
	}
}

func (s *site) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.requests
	s.requests = nil
	return out
}

func testCrawler(allowPrivate bool) *crawl.Crawler {
	return crawl.New(webhook.DestinationPolicy{AllowPrivate: allowPrivate}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func fastOptions(start string) crawl.Options {
	return crawl.Options{Start: start, Delay: -1, PageTimeout: 1500 * time.Millisecond, MaxPageBytes: 1 << 20}
}

func reasons(res crawl.Result) string {
	var b strings.Builder
	for _, s := range res.Skipped {
		fmt.Fprintf(&b, "%s: %s\n", s.Origin, s.Reason)
	}
	return b.String()
}

func TestCrawlSite(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	res, err := testCrawler(true).Crawl(context.Background(), fastOptions(s.srv.URL+"/help/"), nil)
	if err != nil {
		t.Fatalf("crawl: %v", err)
	}
	var ids []string
	for _, d := range res.Docs {
		ids = append(ids, strings.TrimPrefix(d.ExternalID, s.srv.URL))
		if d.URL != d.ExternalID {
			t.Errorf("%s: URL %q, want the canonical URL", d.ExternalID, d.URL)
		}
		for _, furniture := range []string{"cookies", "Navigation menu", "footer"} {
			if strings.Contains(d.Body, furniture) {
				t.Errorf("%s: body keeps %q:\n%s", d.ExternalID, furniture, d.Body)
			}
		}
	}
	slices.Sort(ids)
	want := []string{"/help/", "/help/loop", "/help/loop?x=1", "/help/returns", "/help/shipping"}
	if !slices.Equal(ids, want) {
		t.Errorf("pages %v, want %v\nskipped:\n%s", ids, want, reasons(res))
	}
	why := reasons(res)
	for _, w := range []string{
		"/help/private/secret: disallowed by robots.txt",
		"/help/away: redirected outside the allowed hosts",
		"/help/redir-loop: redirect loop",
		"/help/error: HTTP 500",
		"/help/slow: request failed: ",
		"/help/huge: larger than the page limit",
		"/help/hidden: the page asks not to be indexed",
		"/help/alias: the same page as " + s.srv.URL + "/help/shipping",
		"/help/redirect: the same page as",
	} {
		if !strings.Contains(why, w) {
			t.Errorf("skipped lacks %q:\n%s", w, why)
		}
	}
	for _, r := range s.requested() {
		if strings.HasPrefix(r, "/help/private") || strings.HasPrefix(r, "/blog") {
			t.Errorf("requested %s, which is disallowed or out of scope", r)
		}
	}
	if !res.Complete || res.Fetched < 5 || res.Failed != 2 {
		t.Errorf("complete %t, fetched %d, failed %d; want complete, at least 5 fetched, 2 failed (500 and slow)", res.Complete, res.Fetched, res.Failed)
	}
	if res.Bytes > 3<<20 {
		t.Errorf("read %d bytes: the 20 MB page was not cut off at the limit", res.Bytes)
	}
}

// A re-crawl asks conditionally: unchanged pages are kept without being
// read, a changed page is read again, a page that went away is gone.
func TestRecrawl(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := testCrawler(true)
	opts := fastOptions(s.srv.URL + "/help/")
	first, err := c.Crawl(context.Background(), opts, nil)
	if err != nil {
		t.Fatalf("first crawl: %v", err)
	}
	second, err := c.Crawl(context.Background(), opts, first.Pages)
	if err != nil {
		t.Fatalf("second crawl: %v", err)
	}
	if len(second.Docs) != 0 || second.NotModified != len(first.Docs) || len(second.Kept) != len(first.Docs) {
		t.Errorf("unchanged re-crawl: %d read, %d not modified, %d kept; want 0, %d, %d\n%s", len(second.Docs), second.NotModified, len(second.Kept), len(first.Docs), len(first.Docs), reasons(second))
	}

	s.set("/help/shipping", page("Shipping", "Delivery to Germany now takes one business day.", "/help/"))
	s.set("/help/returns", "")
	third, err := c.Crawl(context.Background(), opts, second.Pages)
	if err != nil {
		t.Fatalf("third crawl: %v", err)
	}
	if len(third.Docs) != 1 || !strings.Contains(third.Docs[0].Body, "one business day") {
		t.Fatalf("after a change: docs %+v", third.Docs)
	}
	for _, id := range third.Kept {
		if strings.HasSuffix(id, "/help/returns") {
			t.Errorf("the removed page is kept")
		}
	}
	if !strings.Contains(reasons(third), "/help/returns: HTTP 404") {
		t.Errorf("the removed page is not reported:\n%s", reasons(third))
	}
}

// A failing page keeps its stored version rather than being taken for gone.
func TestRecrawlKeepsFailingPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := testCrawler(true)
	opts := fastOptions(s.srv.URL + "/help/shipping")
	opts.Prefix = "/help/"
	first, err := c.Crawl(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.down = "/help/returns"
	s.mu.Unlock()
	second, err := c.Crawl(context.Background(), opts, first.Pages)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(second.Kept, s.srv.URL+"/help/returns") || !strings.Contains(reasons(second), "the stored version is kept") {
		t.Errorf("kept %v, skipped:\n%s", second.Kept, reasons(second))
	}
}

func TestCrawlDelay(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.robots = "User-agent: parleybot\nCrawl-delay: 0.2\n\nUser-agent: *\nDisallow: /\n"
	opts := fastOptions(s.srv.URL + "/help/shipping")
	opts.Prefix = "/help/"
	opts.MaxPages = 3
	if _, err := testCrawler(true).Crawl(context.Background(), opts, nil); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []time.Time
	for _, ts := range s.times {
		all = append(all, ts...)
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	if len(all) < 3 {
		t.Fatalf("%d requests, want at least 3", len(all))
	}
	for i := 1; i < len(all); i++ {
		if gap := all[i].Sub(all[i-1]); gap < 190*time.Millisecond {
			t.Errorf("requests %d and %d only %s apart; robots.txt asks for 200ms", i-1, i, gap)
		}
	}
}

func TestCrawlLimits(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	opts := fastOptions(s.srv.URL + "/help/")
	opts.MaxPages = 2
	res, err := testCrawler(true).Crawl(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || !strings.Contains(reasons(res), "the page limit (2) was reached") || res.Fetched+res.Failed+res.NotModified != 2 {
		t.Errorf("complete %t, fetched %d:\n%s", res.Complete, res.Fetched, reasons(res))
	}

	opts = fastOptions(s.srv.URL + "/help/")
	opts.MaxDepth = 1
	res, err = testCrawler(true).Crawl(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Docs {
		if strings.Contains(d.ExternalID, "?x=1") { // linked from /help/loop, depth 2
			t.Errorf("depth limit 1 crawled %s", d.ExternalID)
		}
	}
}

// The crawler obeys the same address policy as webhooks: a site on a
// loopback address is refused unless the operator allows private ones.
func TestCrawlAddressPolicy(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, err := testCrawler(false).Crawl(context.Background(), fastOptions(s.srv.URL+"/help/"), nil)
	if err == nil || !strings.Contains(err.Error(), "loopback address") {
		t.Fatalf("crawl of a loopback site: %v, want a refusal naming the loopback address", err)
	}
	if n := len(s.requested()); n != 0 {
		t.Errorf("%d requests reached the site", n)
	}
}

func TestCrawlStartFails(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.robots = "" // no sitemap to fall back on
	_, err := testCrawler(true).Crawl(context.Background(), fastOptions(s.srv.URL+"/help/error"), nil)
	if err == nil || !strings.Contains(err.Error(), "no page could be fetched") {
		t.Fatalf("crawl of a failing site: %v", err)
	}
	for _, bad := range []string{"ftp://x.example/", "/help/", "https://user:pw@x.example/"} {
		if _, err := testCrawler(true).Crawl(context.Background(), crawl.Options{Start: bad}, nil); err == nil {
			t.Errorf("start %q accepted", bad)
		}
	}
}
