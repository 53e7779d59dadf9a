package crawl

import (
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// fetched is the outcome of requesting one page. Exactly one of skip,
// failed, notModified or a body describes it.
type fetched struct {
	url          string // after redirects
	body         []byte
	contentType  string
	etag         string
	lastModified string
	notModified  bool
	skip         string // left out for good (robots, scope, size, 404)
	failed       string // failed for now (5xx, timeout, network)
}

func (f fetched) isHTML() bool {
	return f.contentType == "text/html" || f.contentType == "application/xhtml+xml"
}

func (f fetched) isPDF() bool {
	return f.contentType == "application/pdf"
}

// fetch requests u, following redirects within scope, conditionally when
// the last crawl read it. Only a cancelled ctx is an error.
func (s *session) fetch(ctx context.Context, u string) (fetched, error) {
	seen := map[string]bool{}
	for hop := 0; ; hop++ {
		pu, err := parseHTTPURL(u)
		if err != nil {
			return fetched{url: u, skip: err.Error()}, nil
		}
		u = pu.String()
		if seen[u] {
			return fetched{url: u, skip: "redirect loop"}, nil
		}
		seen[u] = true
		if hop > maxRedirects {
			return fetched{url: u, skip: fmt.Sprintf("more than %d redirects", maxRedirects)}, nil
		}
		if !s.inScope(pu) {
			return fetched{url: u, skip: fmt.Sprintf("redirected outside the allowed hosts and path prefix %q", s.opts.Prefix)}, nil
		}
		rb, err := s.robotsFor(ctx, pu)
		if err != nil {
			return fetched{url: u, failed: err.Error()}, ctx.Err()
		}
		if !rb.allowed(pu.RequestURI()) {
			return fetched{url: u, skip: "disallowed by robots.txt"}, nil
		}
		f, next, err := s.get(ctx, pu, s.opts.MaxPageBytes, s.known[u])
		if err != nil || next == "" {
			return f, err
		}
		loc, err := pu.Parse(next)
		if err != nil {
			return fetched{url: u, skip: fmt.Sprintf("bad redirect location %q", next)}, nil
		}
		u = loc.String()
	}
}

// get makes one request, after waiting for the host's delay. It returns
// the redirect location, if the answer is a redirect.
func (s *session) get(ctx context.Context, u *url.URL, limit int64, v Validator) (fetched, string, error) {
	if err := s.wait(ctx, u); err != nil {
		return fetched{}, "", err
	}
	start := time.Now()
	defer func() {
		s.res.FetchTime += time.Since(start)
		s.lastHit[u.Host] = time.Now() // the delay runs from the end of a request
	}()
	rctx, cancel := context.WithTimeout(ctx, s.opts.PageTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fetched{url: u.String(), skip: err.Error()}, "", nil
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.1")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	f := fetched{url: u.String()}
	resp, err := s.c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return f, "", ctx.Err()
		}
		f.failed = "request failed: " + failure(err, s.opts.PageTimeout)
		return f, "", nil
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		f.notModified = true
		return f, "", nil
	case code >= 300 && code < 400 && resp.Header.Get("Location") != "":
		return f, resp.Header.Get("Location"), nil
	case code == http.StatusTooManyRequests || code >= 500:
		f.failed = "HTTP " + resp.Status
		return f, "", nil
	case code != http.StatusOK:
		f.skip = "HTTP " + resp.Status
		return f, "", nil
	}
	if resp.ContentLength > limit {
		f.skip = fmt.Sprintf("larger than the page limit of %d bytes (%d)", limit, resp.ContentLength)
		return f, "", nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	s.res.Bytes += int64(len(body))
	switch {
	case err != nil && ctx.Err() != nil:
		return f, "", ctx.Err()
	case err != nil:
		f.failed = "reading the page failed: " + failure(err, s.opts.PageTimeout)
		return f, "", nil
	case int64(len(body)) > limit:
		f.skip = fmt.Sprintf("larger than the page limit of %d bytes", limit)
		return f, "", nil
	}
	f.body = body
	f.contentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if f.contentType == "" || f.contentType == "application/octet-stream" {
		f.contentType = http.DetectContentType(body)
		f.contentType, _, _ = mime.ParseMediaType(f.contentType)
	}
	f.etag, f.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return f, "", nil
}

// failure describes a request error briefly.
func failure(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no complete answer within %s", timeout)
	}
	return err.Error()
}

// wait sleeps until the host's delay since its last request has passed.
func (s *session) wait(ctx context.Context, u *url.URL) error {
	delay := s.opts.Delay
	if rb := s.robots[u.Scheme+"://"+u.Host]; rb != nil && rb.delay > delay {
		delay = rb.delay
	}
	if last, ok := s.lastHit[u.Host]; ok && delay > 0 {
		if d := time.Until(last.Add(delay)); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return nil
}

// robotsFor returns the robots.txt rules of u's site, fetched once. A
// missing robots.txt (4xx) allows everything; one that cannot be read
// (5xx, network) is an error, since it may forbid what would be crawled.
func (s *session) robotsFor(ctx context.Context, u *url.URL) (*robots, error) {
	site := u.Scheme + "://" + u.Host
	if rb, ok := s.robots[site]; ok {
		return rb, nil
	}
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	f, next, err := s.get(ctx, ru, maxRobotsBytes, Validator{})
	if err != nil {
		return nil, err
	}
	rb := &robots{}
	switch {
	case f.failed != "":
		return nil, fmt.Errorf("crawl: robots.txt of %s could not be read (%s)", site, f.failed)
	case f.skip == "" && next == "" && f.body != nil:
		rb = parseRobots(strings.NewReader(string(f.body)), "parleybot")
	}
	s.robots[site] = rb
	return rb, nil
}

// readSitemap returns the page URLs of a sitemap, or of the sitemaps a
// sitemap index lists (one level deep).
func (s *session) readSitemap(ctx context.Context, raw string, depth int) ([]string, error) {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, err
	}
	if !s.hosts[u.Host] {
		return nil, fmt.Errorf("sitemap %s is outside the allowed hosts", raw)
	}
	f, _, err := s.get(ctx, u, maxSitemapBytes, Validator{})
	switch {
	case err != nil:
		return nil, err
	case f.failed != "":
		return nil, errors.New(f.failed)
	case f.skip != "":
		return nil, errors.New(f.skip)
	case f.body == nil:
		return nil, errors.New("no sitemap at this address")
	}
	var r io.Reader = strings.NewReader(string(f.body))
	if strings.HasSuffix(u.Path, ".gz") || f.contentType == "application/x-gzip" || f.contentType == "application/gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gunzip sitemap: %w", err)
		}
		r = io.LimitReader(zr, maxSitemapBytes)
	}
	var doc struct {
		XMLName xml.Name
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse sitemap: %w", err)
	}
	var out []string
	for _, x := range doc.URLs {
		out = append(out, strings.TrimSpace(x.Loc))
	}
	if depth == 0 {
		for _, sm := range doc.Sitemaps {
			urls, err := s.readSitemap(ctx, strings.TrimSpace(sm.Loc), 1)
			if err != nil {
				s.skip(sm.Loc, "sitemap not read: %v", err)
				continue
			}
			out = append(out, urls...)
		}
	}
	return out, nil
}
