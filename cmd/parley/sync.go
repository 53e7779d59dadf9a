package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/webhook"
)

const syncSynopsis = `sync --kb NAME [--workspace NAME]

Syncs a knowledge base with its origin (set with parley ingest URL or PUT
/v1/knowledge-bases/{kb}/origin): the site is crawled again with
conditional requests, changed and new pages are written, pages gone are
pruned, in one transaction. Prints added, updated, unchanged and pruned.

Example:
  parley sync --kb help`

// isURL reports whether an ingest argument is a website to crawl.
func isURL(arg string) bool {
	return strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://")
}

// hostFlags collects repeated --allow-host flags.
type hostFlags []string

func (h *hostFlags) String() string     { return strings.Join(*h, ",") }
func (h *hostFlags) Set(v string) error { *h = append(*h, v); return nil }

// siteFlags are the crawl flags of parley ingest URL.
type siteFlags struct {
	every              *time.Duration
	maxPages, maxDepth *int
	prefix, delay      *string
	hosts              hostFlags
}

func addSiteFlags(fs *flag.FlagSet) *siteFlags {
	f := &siteFlags{
		every:    fs.Duration("sync-every", 0, "for a URL: sync it again every `duration` (e.g. 24h) while parley serve runs; 0 = only on demand"),
		maxPages: fs.Int("max-pages", 0, fmt.Sprintf("for a URL: most pages to fetch (default %d)", crawl.DefaultMaxPages)),
		maxDepth: fs.Int("max-depth", 0, fmt.Sprintf("for a URL: most links from the start page (default %d)", crawl.DefaultMaxDepth)),
		prefix:   fs.String("prefix", "", "for a URL: `path` every page must start with (default: the URL's folder)"),
		delay:    fs.String("delay", "", "for a URL: least `duration` between requests (default 250ms; robots.txt may ask for more)"),
	}
	fs.Var(&f.hosts, "allow-host", "for a URL: another `host` the crawl may follow links to, repeatable")
	return f
}

// ingestSite sets a knowledge base's origin to a website and syncs it.
func ingestSite(ctx context.Context, a *app, workspace, kbName, kind string, urls []string, f *siteFlags, wait bool) error {
	if len(urls) != 1 {
		return usageError("ingest takes one website URL at a time (and no files with it)")
	}
	if kind != "" && kind != "article" {
		return usageError("a website holds articles: use --kind article or leave --kind out")
	}
	settings := crawl.Settings{Hosts: f.hosts, Prefix: *f.prefix, MaxPages: *f.maxPages, MaxDepth: *f.maxDepth, Delay: *f.delay}
	if _, err := settings.Options(urls[0]); err != nil {
		return err
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	ws, _, err := db.EnsureWorkspace(ctx, workspace)
	if err != nil {
		return err
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, kbName)
	if err != nil {
		return err
	}
	if _, err := db.SetOrigin(ctx, parley.Origin{KBID: kb.ID, WorkspaceID: ws.ID, URL: urls[0], Settings: raw, SyncEvery: *f.every}); err != nil {
		return err
	}
	return syncKB(ctx, a, db, ws, kb, wait)
}

func runSync(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "sync", syncSynopsis)
	workspace := fs.String("workspace", a.cfg.Workspace, "workspace `name` (env PARLEY_WORKSPACE)")
	kbName := fs.String("kb", "", "knowledge base `name` (required)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return err
	}
	if *kbName == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError("sync needs --kb NAME and nothing else")
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	ws, err := db.WorkspaceByName(ctx, *workspace)
	if err != nil {
		return err
	}
	kb, err := db.KB(ctx, ws.ID, *kbName)
	if err != nil {
		return err
	}
	return syncKB(ctx, a, db, ws, kb, true)
}

// syncKB syncs a knowledge base with its origin in this process; the
// knowledge service then queues a training and, with wait, waits for it.
func syncKB(ctx context.Context, a *app, db *postgres.DB, ws parley.Workspace, kb parley.KnowledgeBase, wait bool) error {
	embedder, err := newEmbedder(a.cfg)
	if err != nil {
		return err
	}
	pipe, _, err := newPipeline(db, embedder)
	if err != nil {
		return err
	}
	know := newKnowledge(a, db, pipe, embedder, true)
	stop, err := queueTrainings(ctx, a, db, know, wait)
	if err != nil {
		return err
	}
	defer stop()
	crawler := crawl.New(webhook.DestinationPolicy{AllowPrivate: a.cfg.CrawlAllowPrivate}, a.log)
	rep, err := crawl.NewSyncer(crawler, db, know).Sync(ctx, ws.ID, kb.ID)
	for _, s := range rep.Skipped {
		fmt.Fprintf(a.stderr, "skipped %s: %s\n", s.Origin, s.Reason)
	}
	if err != nil {
		return fmt.Errorf("sync of %s/%s failed: %w", ws.Name, kb.Name, err)
	}
	fmt.Fprintf(a.stdout, "synced %s/%s in %s: %d added, %d updated, %d unchanged, %d pruned, %d skipped (%d pages fetched, %d not modified, %d failed; %d chunks embedded)\n",
		ws.Name, kb.Name, time.Duration(rep.ElapsedMS)*time.Millisecond, rep.Added, rep.Updated, rep.Unchanged, rep.Pruned,
		len(rep.Skipped), rep.Fetched, rep.NotModified, rep.Failed, rep.Embedded)
	return nil
}
