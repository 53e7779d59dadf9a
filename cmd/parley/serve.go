package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/webhook"
)

func runServe(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "serve", "serve [--addr HOST:PORT]\n\nRuns the HTTP API until SIGINT or SIGTERM, then finishes in-flight requests.")
	addr := fs.String("addr", a.cfg.Addr, "listen `address` (env PARLEY_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a.log.Info("starting", "version", version, "config", a.cfg)
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	vacuumed, err := db.Autovacuum(ctx)
	if err != nil {
		return err
	}
	if !vacuumed {
		a.log.Warn("PostgreSQL runs without autovacuum: the planner's statistics go stale as conversations are stored, and lookups by key turn into sequential scans; turn autovacuum on (PostgreSQL's default) or ANALYZE regularly")
	}

	embedder, err := newEmbedder(a.cfg)
	if err != nil {
		return err
	}
	pipeline, tok, err := newPipeline(db, embedder)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	drafter, grounder, err := newDrafter(a.cfg, a.log, tok, reg)
	if err != nil {
		return err
	}
	// The language models the workspaces need are loaded now, not at
	// their first question; a workspace created later loads its own then.
	langs, err := db.WorkspaceLanguages(ctx)
	if err != nil {
		return err
	}
	a.log.Info("loading language models", "languages", langs)
	detector := reply.NewLanguageDetector()
	detector.Load(langs)
	engine := reply.New(db, embedder, reply.Options{
		Language:     detector,
		Classifiers:  db,
		Calibrations: db,
		Grounder:     grounder,
		Logger:       a.log,
	})
	assistant := assist.NewAssistant(engine, drafter)
	webhookPolicy := webhook.DestinationPolicy{AllowPrivate: a.cfg.WebhookAllowPrivate}
	// The widget's event streams hear of new agent replies through
	// PostgreSQL LISTEN/NOTIFY, from whichever replica wrote them.
	notifier := db.NewNotifier(a.log)
	notifyCtx, stopNotifier := context.WithCancel(ctx)
	notifierDone := make(chan struct{})
	go func() {
		defer close(notifierDone)
		_ = notifier.Run(notifyCtx)
	}()
	defer func() {
		stopNotifier()
		<-notifierDone
	}()
	know := newKnowledge(a, db, pipeline, embedder, true)
	crawlPolicy := webhook.DestinationPolicy{AllowPrivate: a.cfg.CrawlAllowPrivate}
	syncer := crawl.NewSyncer(crawl.New(crawlPolicy, a.log), db, know)
	bg, ingestJobs, syncJobs, err := newBackground(ctx, a, db, know, jobs.SyncFunc(func(ctx context.Context, ws, kb string) error {
		_, err := syncer.Sync(ctx, ws, kb)
		return err
	}), webhookPolicy)
	if err != nil {
		return err
	}
	handler := api.New(db, engine, api.Options{
		Logger:        a.log,
		MaxBodyBytes:  a.cfg.MaxBodyBytes,
		Ready:         func(ctx context.Context) error { return ready(ctx, db) },
		Metrics:       reg,
		Version:       version,
		Assistant:     assistant,
		Embedder:      embedder,
		WebhookPolicy: webhookPolicy,

		Knowledge:        know,
		IngestJobs:       ingestJobs,
		Origins:          origins{db, syncJobs, syncer},
		CrawlPolicy:      crawlPolicy,
		MaxUploadBytes:   a.cfg.MaxUploadBytes,
		MaxUploadRecords: a.cfg.MaxUploadRecords,
		ClassifyError:    postgres.Classify,

		Live:           notifier,
		WidgetLimits:   a.cfg.WidgetLimits,
		TrustedProxies: a.cfg.TrustedProxies,
		Console:        api.ConsoleOptions{Sessions: a.cfg.ConsoleSessions},
	})
	if err := bg.start(ctx); err != nil {
		return err
	}
	// Stopped however serve returns; after a SIGTERM it is stopped below,
	// once the requests have finished, and then this does nothing.
	defer func() { _ = bg.stop(context.Background()) }()

	// Requests run in a context that SIGTERM does not end: only a shutdown
	// that runs out of time cuts them off.
	requests, cutOff := context.WithCancel(context.WithoutCancel(ctx))
	defer cutOff()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return requests },
	}
	// Event streams never finish on their own: they end when shutdown
	// begins, and the browsers reconnect to another replica.
	srv.RegisterOnShutdown(handler.StopStreams)
	// Loading the language models leaves about as much garbage as they
	// keep; hand it back to the OS before serving (BENCHMARKS.md, memory).
	debug.FreeOSMemory()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	a.log.Info("serving", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests", "timeout", a.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if err != nil {
		// The requests still running are cancelled and their connections
		// closed: they give back their database connections, which
		// db.Close would otherwise wait for.
		cutOff()
		_ = srv.Close()
	}
	if bgErr := bg.stop(shutdownCtx); bgErr != nil {
		a.log.Warn("shutdown", "err", bgErr.Error())
	}
	if err != nil {
		return fmt.Errorf("shutdown: requests still running after %s were cut off: %w", a.cfg.ShutdownTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// origins is the API's Origins: kept in the database, synced on the
// queue, previewed in the request.
type origins struct {
	*postgres.DB
	jobs.SyncEnqueuer
	*crawl.Syncer
}

// ready reports whether the database answers and its schema is current.
func ready(ctx context.Context, db *postgres.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	return schemaCurrent(ctx, db)
}
