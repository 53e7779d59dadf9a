// Package crawl reads a help-center website into articles: from a start
// page or a sitemap, within the allowed hosts and a path prefix, obeying
// robots.txt and a crawl delay, within limits on pages, depth and bytes,
// with conditional requests (ETag, Last-Modified) so that a re-crawl
// fetches only what changed. Pages become articles through the ingest
// package's HTML and PDF loaders (main content only), identified by their
// canonical URL. Every connection is checked against the same address
// policy as webhooks.
//
// Sync (sync.go) runs a crawl for a knowledge base's origin and ingests the
// result in one transaction, pruning the pages that disappeared.
package crawl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/webhook"
)

// UserAgent is how the crawler introduces itself; robots.txt groups for
// "parleybot" apply to it.
const UserAgent = "ParleyBot/1.0 (+https://github.com/parleyhq/parley)"

// Defaults for the Options left zero.
const (
	DefaultMaxPages      = 1000
	DefaultMaxDepth      = 10
	DefaultMaxPageBytes  = 5 << 20
	DefaultMaxTotalBytes = 500 << 20
	DefaultDelay         = 250 * time.Millisecond
	DefaultPageTimeout   = 30 * time.Second
	maxRedirects         = 10
	maxSitemapBytes      = 50 << 20
)

// Options say what to crawl and how.
type Options struct {
	// Start is the first page, or a sitemap (a URL ending in .xml).
	Start string
	// Hosts are allowed besides Start's host (e.g. "docs.example.com").
	Hosts []string
	// Prefix is the path every page must start with; "" means Start's
	// folder ("/help/" for https://x.example/help/start), or "/" for a
	// sitemap.
	Prefix string
	// Limits: pages fetched, link depth from Start, bytes of one page and
	// of the whole crawl. Zero takes the default.
	MaxPages      int
	MaxDepth      int
	MaxPageBytes  int64
	MaxTotalBytes int64
	// Delay is the least time between two requests to one host (robots.txt
	// may ask for more); zero is DefaultDelay, negative none.
	Delay time.Duration
	// PageTimeout bounds one request, body included.
	PageTimeout time.Duration
}

// Validator is what a crawl remembers of a page it read, for the next: the
// response's validators for a conditional request, the page's identity
// (its canonical URL, the source's external id) and its link depth.
type Validator struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	ID           string `json:"id"`
	Depth        int    `json:"depth"`
}

// Result is what a crawl found.
type Result struct {
	// Docs are the pages read (changed or new), one article each.
	Docs []ingest.Document
	// Kept are the ids of stored pages to keep as they are: not modified
	// since the last crawl, or failing for now (a 5xx, a timeout).
	Kept []string
	// Pages are the validators of every page in Docs and Kept, by the URL
	// fetched: the next crawl's known pages.
	Pages map[string]Validator
	// Skipped are pages left out, with the reason.
	Skipped []ingest.Skipped
	// Complete is false when a limit stopped the crawl: pages it did not
	// reach were not seen, so none may be taken for gone.
	Complete bool
	// Counts: requests that returned a page, 304s, failures, bytes read.
	Fetched, NotModified, Failed int
	Bytes                        int64
	// FetchTime is the time spent on requests, delays included.
	FetchTime time.Duration
}

// Crawler fetches pages through an HTTP client that connects only where
// the address policy allows. It is safe for concurrent use.
type Crawler struct {
	client *http.Client
	log    *slog.Logger
}

// New returns a crawler whose connections policy checks.
func New(policy webhook.DestinationPolicy, log *slog.Logger) *Crawler {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: policy.Control}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // the policy checks the address connected to
	transport.DialContext = dialer.DialContext
	transport.MaxIdleConnsPerHost = 4
	return &Crawler{
		log: log,
		client: &http.Client{
			Transport: transport,
			// Redirects are followed by the crawl, which checks each hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// ErrNothingFetched is returned when a crawl could read no page at all: a
// site that is down must not look like a site without pages.
var ErrNothingFetched = errors.New("no page could be fetched")

// Crawl reads the site opts describe. known are the pages of the last
// crawl (Result.Pages), asked for conditionally and crawled again even
// when no page links to them any more. An error means the crawl as a whole
// failed (bad options, the start page or sitemap unreachable, nothing
// fetched): its partial result must not be written.
func (c *Crawler) Crawl(ctx context.Context, opts Options, known map[string]Validator) (Result, error) {
	s, err := c.newSession(opts, known)
	if err != nil {
		return Result{}, err
	}
	if err := s.seed(ctx); err != nil {
		return Result{}, err
	}
	for len(s.queue) > 0 {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if s.res.Fetched+s.res.NotModified+s.res.Failed >= s.opts.MaxPages {
			s.stopEarly(fmt.Sprintf("the page limit (%d) was reached", s.opts.MaxPages))
			break
		}
		if s.res.Bytes >= s.opts.MaxTotalBytes {
			s.stopEarly(fmt.Sprintf("the byte limit (%d) was reached", s.opts.MaxTotalBytes))
			break
		}
		it := s.queue[0]
		s.queue = s.queue[1:]
		if err := s.visit(ctx, it); err != nil {
			return Result{}, err
		}
	}
	if len(s.res.Docs) == 0 && len(s.res.Kept) == 0 {
		return Result{}, fmt.Errorf("crawl %s: %w (%s)", opts.Start, ErrNothingFetched, s.skippedSummary())
	}
	return s.res, nil
}

// item is a URL to visit and its link depth.
type item struct {
	url   string
	depth int
}

// session is the state of one crawl.
type session struct {
	c       *Crawler
	opts    Options
	start   *url.URL
	sitemap bool
	hosts   map[string]bool
	known   map[string]Validator
	queue   []item
	queued  map[string]bool // normalised URLs queued or visited
	ids     map[string]bool // identities produced
	robots  map[string]*robots
	lastHit map[string]time.Time
	res     Result
}

func (c *Crawler) newSession(opts Options, known map[string]Validator) (*session, error) {
	start, err := parseHTTPURL(opts.Start)
	if err != nil {
		return nil, err
	}
	s := &session{
		c: c, opts: withDefaults(opts), start: start, known: known,
		sitemap: strings.HasSuffix(strings.ToLower(start.Path), ".xml") || strings.HasSuffix(strings.ToLower(start.Path), ".xml.gz"),
		hosts:   map[string]bool{start.Host: true}, queued: map[string]bool{}, ids: map[string]bool{},
		robots: map[string]*robots{}, lastHit: map[string]time.Time{},
		res: Result{Pages: map[string]Validator{}, Complete: true},
	}
	for _, h := range opts.Hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			s.hosts[h] = true
		}
	}
	if s.opts.Prefix == "" {
		s.opts.Prefix = "/"
		if !s.sitemap {
			s.opts.Prefix = start.Path[:strings.LastIndex(start.Path, "/")+1]
		}
	}
	if !strings.HasPrefix(s.opts.Prefix, "/") {
		return nil, fmt.Errorf("crawl: path prefix %q must start with /", s.opts.Prefix)
	}
	return s, nil
}

func withDefaults(o Options) Options {
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxPageBytes <= 0 {
		o.MaxPageBytes = DefaultMaxPageBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	switch {
	case o.Delay == 0:
		o.Delay = DefaultDelay
	case o.Delay < 0:
		o.Delay = 0
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = DefaultPageTimeout
	}
	return o
}

// seed queues the start page, or the sitemap's pages, the sitemaps
// robots.txt lists, and the pages of the last crawl.
func (s *session) seed(ctx context.Context) error {
	rb, err := s.robotsFor(ctx, s.start)
	if err != nil {
		return err
	}
	if s.sitemap {
		urls, err := s.readSitemap(ctx, s.start.String(), 0)
		if err != nil {
			return fmt.Errorf("crawl: read sitemap %s: %w", s.start, err)
		}
		for _, u := range urls {
			s.enqueue(u, 0)
		}
	} else {
		s.enqueue(s.start.String(), 0)
		for _, sm := range rb.sitemaps {
			if ref, err := s.start.Parse(sm); err == nil { // RFC 9309 wants them absolute; be lenient
				sm = ref.String()
			}
			urls, err := s.readSitemap(ctx, sm, 0)
			if err != nil {
				s.skip(sm, "sitemap not read: %v", err)
				continue
			}
			for _, u := range urls {
				s.enqueue(u, 1)
			}
		}
	}
	for u, v := range s.known {
		s.enqueue(u, v.Depth)
	}
	if len(s.queue) == 0 {
		return fmt.Errorf("crawl %s: %w: the start is outside the allowed hosts and prefix %q, or robots.txt disallows it", s.start, ErrNothingFetched, s.opts.Prefix)
	}
	return nil
}

// enqueue adds u at depth when it is in scope and not yet queued.
func (s *session) enqueue(raw string, depth int) {
	u, err := parseHTTPURL(raw)
	if err != nil || !s.inScope(u) || depth > s.opts.MaxDepth {
		return
	}
	key := u.String()
	if s.queued[key] {
		return
	}
	s.queued[key] = true
	s.queue = append(s.queue, item{key, depth})
}

// inScope reports whether u is on an allowed host under the prefix.
func (s *session) inScope(u *url.URL) bool {
	return s.hosts[u.Host] && strings.HasPrefix(u.Path, s.opts.Prefix)
}

func (s *session) stopEarly(why string) {
	s.res.Complete = false
	s.skip(s.queue[0].url, "not crawled: %s; %d pages left, and no page was taken for gone", why, len(s.queue))
}

func (s *session) skip(origin, format string, args ...any) {
	s.res.Skipped = append(s.res.Skipped, ingest.Skipped{Origin: origin, Reason: fmt.Sprintf(format, args...)})
}

// skippedSummary is the first reasons pages were skipped, for an error.
func (s *session) skippedSummary() string {
	var parts []string
	for _, sk := range s.res.Skipped[:min(3, len(s.res.Skipped))] {
		parts = append(parts, sk.Origin+": "+sk.Reason)
	}
	if len(parts) == 0 {
		return "no page in scope"
	}
	return strings.Join(parts, "; ")
}

// visit fetches one page and takes in what it holds.
func (s *session) visit(ctx context.Context, it item) error {
	if _, done := s.res.Pages[it.url]; done { // read already, as a redirect's target
		return nil
	}
	page, err := s.fetch(ctx, it.url)
	if err != nil {
		return err
	}
	switch {
	case page.skip != "":
		s.skip(it.url, "%s", page.skip)
	case page.failed != "":
		s.res.Failed++
		if v, ok := s.known[page.url]; ok && !s.ids[v.ID] {
			s.ids[v.ID] = true
			s.res.Kept = append(s.res.Kept, v.ID)
			s.res.Pages[page.url] = v
			s.skip(it.url, "%s; the stored version is kept", page.failed)
		} else {
			s.skip(it.url, "%s", page.failed)
		}
	case page.notModified:
		s.res.NotModified++
		v := s.known[page.url]
		if !s.ids[v.ID] {
			s.ids[v.ID] = true
			s.res.Kept = append(s.res.Kept, v.ID)
			s.res.Pages[page.url] = v
		}
	default:
		s.res.Fetched++
		s.take(ctx, it, page)
	}
	return nil
}

// take turns a fetched page into an article and queues its links.
func (s *session) take(ctx context.Context, it item, page fetched) {
	base, _ := url.Parse(page.url)
	format := ingest.FormatHTML
	var meta pageMeta
	switch {
	case page.isPDF():
		format = ingest.FormatPDF
	case page.isHTML():
		meta = readPageMeta(page.body, base)
		if !meta.nofollow && it.depth < s.opts.MaxDepth {
			for _, l := range meta.links {
				s.enqueue(l, it.depth+1)
			}
		}
		if meta.noindex {
			s.skip(page.url, "the page asks not to be indexed (robots noindex)")
			return
		}
	default:
		s.skip(page.url, "not a web page or PDF (content type %q)", page.contentType)
		return
	}
	id := page.url
	if meta.canonical != "" {
		if cu, err := parseHTTPURL(meta.canonical); err == nil && s.hosts[cu.Host] {
			id = cu.String()
		}
	}
	if s.ids[id] {
		s.skip(it.url, "the same page as %s", id)
		return
	}
	docs, report, err := ingest.LoadReader(ctx, bytes.NewReader(page.body), "page."+string(format), ingest.LoadOptions{Format: format, Kind: ingest.KindArticle})
	for _, sk := range report.Skipped {
		s.skip(page.url, "%s", strings.TrimPrefix(strings.TrimPrefix(sk.Origin, "page."+string(format)), " ")+" "+sk.Reason)
	}
	if err != nil || len(docs) == 0 {
		if err != nil {
			s.skip(page.url, "%v", err)
		}
		return
	}
	d := docs[0]
	d.ExternalID, d.URL, d.Origin = id, id, page.url
	if d.Title == "page" { // no title in the page: the loader fell back to the file name
		d.Title = titleFromURL(base)
	}
	s.ids[id] = true
	s.res.Docs = append(s.res.Docs, d)
	s.res.Pages[page.url] = Validator{ETag: page.etag, LastModified: page.lastModified, ID: id, Depth: it.depth}
}

// titleFromURL makes "https://x/help/getting-started" into "getting started".
func titleFromURL(u *url.URL) string {
	p := strings.TrimSuffix(u.Path, "/")
	p = p[strings.LastIndex(p, "/")+1:]
	if p == "" {
		return u.Host
	}
	return strings.Join(strings.FieldsFunc(p, func(r rune) bool { return r == '-' || r == '_' || r == '.' }), " ")
}

// parseHTTPURL parses an absolute http(s) URL without credentials and
// returns it normalised: lower-case scheme and host, default port and
// fragment dropped, empty path as "/".
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("crawl: bad URL %q: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("crawl: URL %q must be absolute http or https", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("crawl: URL %q must not carry a user name or password", raw)
	}
	u.Host = strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		u.Host = u.Hostname()
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}
