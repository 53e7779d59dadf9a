package crawl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

// Settings are an origin's crawl settings as stored and as the API and CLI
// take them (parley.Origin.Settings).
type Settings struct {
	Hosts         []string `json:"hosts,omitempty"`
	Prefix        string   `json:"prefix,omitempty"`
	MaxPages      int      `json:"max_pages,omitempty"`
	MaxDepth      int      `json:"max_depth,omitempty"`
	MaxPageBytes  int64    `json:"max_page_bytes,omitempty"`
	MaxTotalBytes int64    `json:"max_total_bytes,omitempty"`
	// Delay is a Go duration ("500ms"); "" is DefaultDelay, "0s" none.
	Delay string `json:"delay,omitempty"`
}

// Options returns the crawl options of these settings from start.
func (s Settings) Options(start string) (Options, error) {
	o := Options{Start: start, Hosts: s.Hosts, Prefix: s.Prefix, MaxPages: s.MaxPages, MaxDepth: s.MaxDepth,
		MaxPageBytes: s.MaxPageBytes, MaxTotalBytes: s.MaxTotalBytes}
	if s.Delay != "" {
		d, err := time.ParseDuration(s.Delay)
		if err != nil || d < 0 {
			return o, parley.Errorf(parley.EInvalid, "delay %q: want a duration like 500ms or 2s", s.Delay)
		}
		o.Delay = d
		if d == 0 {
			o.Delay = -1
		}
	}
	if _, err := parseHTTPURL(start); err != nil {
		return o, parley.Errorf(parley.EInvalid, "%v", err)
	}
	if o.MaxPages < 0 || o.MaxDepth < 0 || o.MaxPageBytes < 0 || o.MaxTotalBytes < 0 {
		return o, parley.Errorf(parley.EInvalid, "limits must not be negative")
	}
	return o, nil
}

// OriginStore keeps origins and their syncs (postgres.DB).
type OriginStore interface {
	Origin(ctx context.Context, workspaceID, kbID string) (parley.Origin, error)
	MarkOriginSync(ctx context.Context, kbID, state string) error
	FinishOriginSync(ctx context.Context, s parley.OriginSync) error
	SourceHashes(ctx context.Context, workspaceID, kbID string) (map[string]string, error)
}

// Ingester writes documents into a knowledge base and retrains after it
// (knowledge.Service).
type Ingester interface {
	Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error)
}

// Syncer syncs knowledge bases with their origins.
type Syncer struct {
	crawler *Crawler
	store   OriginStore
	ing     Ingester
}

// NewSyncer returns a Syncer crawling with crawler and writing with ing.
func NewSyncer(crawler *Crawler, store OriginStore, ing Ingester) *Syncer {
	return &Syncer{crawler: crawler, store: store, ing: ing}
}

// Report is what one sync did: the ingest's counts (added, updated,
// unchanged, pruned), the crawl's, and where the time went.
type Report struct {
	ingest.Result
	Fetched     int              `json:"fetched"`
	NotModified int              `json:"not_modified"`
	Failed      int              `json:"failed"`
	Bytes       int64            `json:"bytes"`
	Complete    bool             `json:"complete"`
	Skipped     []ingest.Skipped `json:"skipped"`
	FetchMS     int64            `json:"fetch_ms"`  // requests and delays
	IngestMS    int64            `json:"ingest_ms"` // chunking, embedding, writing
	ElapsedMS   int64            `json:"elapsed_ms"`
}

// Sync crawls a knowledge base's origin and ingests what it found in one
// transaction: changed and new pages written, pages not modified kept,
// pages gone pruned (only when the crawl was complete, and only from this
// knowledge base). A failed sync writes nothing and keeps the last crawl's
// pages; its error is recorded with the origin and returned.
func (s *Syncer) Sync(ctx context.Context, workspaceID, kbID string) (Report, error) {
	start := time.Now()
	o, err := s.store.Origin(ctx, workspaceID, kbID)
	if err != nil {
		return Report{}, err
	}
	if err := s.store.MarkOriginSync(ctx, kbID, parley.JobRunning); err != nil {
		return Report{}, err
	}
	rep, pages, err := s.run(ctx, o)
	rep.ElapsedMS = time.Since(start).Milliseconds()
	msg := ""
	if err != nil {
		msg = parley.ErrorMessage(err)
		if parley.ErrorCode(err) == parley.EInternal {
			msg = err.Error()
		}
		msg += "; nothing was written"
	}
	// The record of the outcome outlives a cancelled sync.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	report, merr := json.Marshal(rep)
	if merr != nil && err == nil {
		return rep, fmt.Errorf("encode the report of the sync of knowledge base %s: %w", kbID, merr)
	}
	if ferr := s.store.FinishOriginSync(fctx, parley.OriginSync{KBID: kbID, Pages: pages, Error: msg, Report: report}); ferr != nil && err == nil {
		err = fmt.Errorf("record sync of knowledge base %s: %w", kbID, ferr)
	}
	return rep, err
}

// run crawls and ingests; it returns the pages to remember (nil when the
// sync failed).
func (s *Syncer) run(ctx context.Context, o parley.Origin) (Report, json.RawMessage, error) {
	res, rep, err := s.crawl(ctx, o)
	if err != nil {
		return rep, nil, err
	}
	ingestStart := time.Now()
	result, err := s.ing.Ingest(ctx, ingest.Request{WorkspaceID: o.WorkspaceID, KBID: o.KBID, Docs: res.Docs, Keep: res.Kept, Prune: res.Complete})
	rep.IngestMS = time.Since(ingestStart).Milliseconds()
	if err != nil {
		return rep, nil, err
	}
	rep.Result = result
	pages, err := json.Marshal(res.Pages)
	if err != nil {
		return rep, nil, fmt.Errorf("encode crawled pages: %w", err)
	}
	return rep, pages, nil
}

// crawl crawls an origin's site as a sync does, asking conditionally for
// the pages of the last crawl that are still stored.
func (s *Syncer) crawl(ctx context.Context, o parley.Origin) (Result, Report, error) {
	var settings Settings
	if err := json.Unmarshal(o.Settings, &settings); err != nil {
		return Result{}, Report{}, fmt.Errorf("read origin settings: %w", err)
	}
	opts, err := settings.Options(o.URL)
	if err != nil {
		return Result{}, Report{}, err
	}
	known := map[string]Validator{}
	if len(o.Pages) > 0 {
		if err := json.Unmarshal(o.Pages, &known); err != nil {
			return Result{}, Report{}, fmt.Errorf("read origin pages: %w", err)
		}
	}
	// Ask conditionally only for pages still stored: one pruned or deleted
	// since must be read again, not kept.
	stored, err := s.store.SourceHashes(ctx, o.WorkspaceID, o.KBID)
	if err != nil {
		return Result{}, Report{}, err
	}
	for u, v := range known {
		if _, ok := stored[v.ID]; !ok {
			v.ETag, v.LastModified = "", ""
			known[u] = v
		}
	}
	res, err := s.crawler.Crawl(ctx, opts, known)
	rep := Report{Fetched: res.Fetched, NotModified: res.NotModified, Failed: res.Failed, Bytes: res.Bytes,
		Complete: res.Complete, Skipped: res.Skipped, FetchMS: res.FetchTime.Milliseconds()}
	if rep.Skipped == nil {
		rep.Skipped = []ingest.Skipped{}
	}
	if err != nil {
		return res, rep, parley.Errorf(parley.EUnavailable, "%v", err)
	}
	return res, rep, nil
}
