package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/parleyhq/parley/ingest"
)

const ingestSynopsis = `ingest PATH... --kb NAME [flags]
       parley ingest URL --kb NAME [--kind article] [--sync-every 24h] [crawl flags]

Loads FAQ spreadsheets (CSV, JSON, JSONL), articles (Markdown, HTML, text,
PDF; files, directory trees or .zip) and resolved conversations (JSONL)
into a knowledge base, or crawls a help-center website (from a page or a
sitemap .xml) and keeps it as the knowledge base's origin, to sync again
with parley sync or every --sync-every. Unchanged entries are skipped
without re-embedding; changed ones replace their old version; everything
is written in one transaction.
Then, unless it was a dry run, a training job is queued and (unless
--wait=false) waited for: the workspace's intent classifier is trained on
its entries labelled with an intent, unless they are unchanged since it
last was, and its confidence calibration refitted (logged; a failure
leaves the ingest written and the previous model serving).

Examples:
  parley ingest faq.csv --kb help
  parley ingest train.csv --kb banking --column question=text --column intent=category
  parley ingest docs/ --kb articles --prune
  parley ingest https://help.example.com/ --kb help --kind article --sync-every 24h`

// columnFlags collects repeated --column FIELD=COLUMN flags.
type columnFlags map[string]string

func (c columnFlags) String() string { return fmt.Sprint(map[string]string(c)) }

func (c columnFlags) Set(v string) error {
	field, col, err := ingest.ParseColumn(v)
	if err != nil {
		return err
	}
	c[field] = col
	return nil
}

func runIngest(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "ingest", ingestSynopsis)
	workspace := fs.String("workspace", a.cfg.Workspace, "workspace `name` (created if missing; env PARLEY_WORKSPACE)")
	kbName := fs.String("kb", "", "knowledge base `name` (created if missing; required)")
	kind := fs.String("kind", "", "`kind` of every file: faq, article or conversation (default: from each file's extension)")
	format := fs.String("format", "", "`format` of every file: csv, json, jsonl, md, html, txt, pdf or conversations (default: from the extension)")
	columns := columnFlags{}
	fs.Var(columns, "column", "map a `FIELD=COLUMN` (CSV column or JSON key), repeatable: --column question=text --column intent=category")
	prune := fs.Bool("prune", false, "delete the knowledge base's sources that are not in this upload")
	dryRun := fs.Bool("dry-run", false, "report what would change and write nothing")
	wait := fs.Bool("wait", true, "wait for the training the ingest queues (false: leave it to a running parley serve)")
	keepPII := fs.Bool("keep-pii", false, "store e-mail addresses, phone, card and IBAN numbers in conversations unmasked")
	site := addSiteFlags(fs.FlagSet)
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return err
	}
	if fs.NArg() == 0 || *kbName == "" {
		fs.Usage()
		return usageError("ingest needs at least one PATH and --kb NAME")
	}
	if slices.ContainsFunc(fs.Args(), isURL) {
		return ingestSite(ctx, a, *workspace, *kbName, *kind, fs.Args(), site, *wait)
	}
	opts := ingest.LoadOptions{Kind: ingest.Kind(*kind), Format: ingest.Format(*format), Columns: columns, KeepPII: *keepPII}

	start := time.Now()
	var docs []ingest.Document
	var skipped []ingest.Skipped
	for _, path := range fs.Args() {
		d, r, err := ingest.LoadPath(ctx, path, opts)
		if err != nil {
			return err
		}
		docs = append(docs, d...)
		skipped = append(skipped, r.Skipped...)
	}
	for _, s := range skipped {
		fmt.Fprintf(a.stderr, "skipped %s: %s\n", s.Origin, s.Reason)
	}

	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	ws, _, err := db.EnsureWorkspace(ctx, *workspace)
	if err != nil {
		return err
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, *kbName)
	if err != nil {
		return err
	}
	embedder, err := newEmbedder(a.cfg)
	if err != nil {
		return err
	}
	pipe, _, err := newPipeline(db, embedder)
	if err != nil {
		return err
	}
	know := newKnowledge(a, db, pipe, embedder, true)
	stop, err := queueTrainings(ctx, a, db, know, *wait)
	if err != nil {
		return err
	}
	defer stop()
	bar := newProgress(a, "embedding and writing")
	res, err := know.Ingest(ctx, ingest.Request{
		WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs, Prune: *prune, DryRun: *dryRun,
		Progress: bar.update,
	})
	bar.finish()
	if err != nil {
		return fmt.Errorf("ingest into %s/%s failed, nothing was written: %w", ws.Name, kb.Name, err)
	}
	verb := "ingested"
	if *dryRun {
		verb = "dry run, nothing written; would have ingested"
	}
	fmt.Fprintf(a.stdout, "%s %d entries into %s/%s in %s: %d added, %d updated, %d unchanged, %d skipped, %d pruned, 0 failed (%d chunks embedded, %s)\n",
		verb, len(docs), ws.Name, kb.Name, time.Since(start).Round(time.Millisecond),
		res.Added, res.Updated, res.Unchanged, len(skipped), res.Pruned, res.Embedded, embedder.Model())
	return nil
}

// progress shows a bar on a terminal and a log line every few seconds
// otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	a     *app
	label string
	last  time.Time
}

func newProgress(a *app, label string) *progress {
	p := &progress{a: a, label: label, last: time.Now()}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) update(done, total int) {
	if p.bar != nil {
		p.bar.ChangeMax(total)
		_ = p.bar.Set(done)
		return
	}
	if done == total || time.Since(p.last) > 2*time.Second {
		p.last = time.Now()
		p.a.log.Info(p.label, "done", done, "total", total)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
