package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/webhook"
)

// background is everything `parley serve` runs beside the HTTP server, with
// one lifecycle: the job queue (River: ingest, sync and training jobs),
// loops (webhook delivery) and periodic tasks (deleting old webhook events
// and expired console sessions, failing lost ingest jobs). start starts them all; stop stops taking new work, lets the
// work in flight finish until its context ends, then cancels it and waits
// for every part to return. Nothing is lost by stopping: queued jobs and
// undelivered events stay in the database for the next start or another
// replica.
type background struct {
	log   *slog.Logger
	queue *postgres.Queue
	loops []loop
	tasks []periodic

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// loop is a long-running part: run returns when ctx ends.
type loop struct {
	name string
	run  func(ctx context.Context) error
}

// periodic is a task run when the server starts and then every interval.
// A round that has begun finishes (bounded by periodicRoundMax) even when
// the server stops: a statement cancelled as it commits could do its work
// without saying so.
type periodic struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) (int, error) // how many things it did
}

const periodicRoundMax = 10 * time.Second

// sessionSweepInterval is how often expired console sessions are deleted
// (they stop working at once; this only keeps the table small).
const sessionSweepInterval = 15 * time.Minute

// start starts every part. Loops and tasks run until stop; ctx only
// carries values into them.
func (b *background) start(ctx context.Context) error {
	if b.queue != nil {
		if err := b.queue.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, l := range b.loops {
		b.wg.Go(func() {
			if err := l.run(ctx); err != nil {
				b.log.ErrorContext(ctx, "background loop stopped", "loop", l.name, "err", err.Error())
			}
		})
	}
	for _, p := range b.tasks {
		b.wg.Go(func() { b.every(ctx, p) })
	}
	return nil
}

func (b *background) every(ctx context.Context, p periodic) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		round, cancel := context.WithTimeout(context.WithoutCancel(ctx), periodicRoundMax)
		n, err := p.run(round)
		cancel()
		switch {
		case err != nil:
			b.log.ErrorContext(ctx, "periodic task", "task", p.name, "err", err.Error())
		case n > 0:
			b.log.InfoContext(ctx, "periodic task", "task", p.name, "done", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop stops every part: loops and periodic tasks at once (a webhook
// delivery in flight is handed back for the next worker), the job queue
// after its running jobs finish or ctx ends (then they are cancelled and
// run again later, here or elsewhere).
func (b *background) stop(ctx context.Context) error {
	if b.cancel != nil {
		b.cancel()
	}
	var err error
	if b.queue != nil {
		err = b.queue.Stop(ctx)
	}
	b.wg.Wait()
	if err != nil {
		return fmt.Errorf("background work: %w", err)
	}
	return nil
}

// newBackground builds the background work of `parley serve`: the job
// queue with its ingest, sync and training workers (and what queues their
// jobs: for the API, and know's trainings after each change), webhook
// delivery, and the periodic tasks.
func newBackground(ctx context.Context, a *app, db *postgres.DB, know *knowledge.Service, syncer jobs.Syncer, policy webhook.DestinationPolicy) (*background, jobs.Enqueuer, jobs.SyncEnqueuer, error) {
	ingest := jobs.NewIngest(db, know, jobs.IngestOptions{JobTimeout: a.cfg.IngestJobTimeout, Logger: a.log})
	syncs := jobs.NewSync(syncer, a.log)
	train := jobs.NewTrain(db, know, a.log)
	indexes := jobs.NewVectorIndex(db, a.cfg.IngestJobTimeout, a.log)
	workers := river.NewWorkers()
	ingest.Register(workers)
	syncs.Register(workers)
	train.Register(workers)
	indexes.Register(workers)
	queue, err := postgres.NewQueue(ctx, db, postgres.QueueOptions{
		Workers:     workers,
		Concurrency: a.cfg.IngestJobs,
		JobTimeout:  a.cfg.IngestJobTimeout,
		Logger:      a.log,
	})
	if err != nil {
		return nil, jobs.Enqueuer{}, jobs.SyncEnqueuer{}, err
	}
	syncQueue := syncs.On(queue, db)
	know.WithTrainingQueue(train.On(queue, nil)).WithVectorIndexQueue(indexes.On(queue))
	deliverer := webhook.NewDeliverer(db, webhook.DelivererOptions{
		PollInterval:  a.cfg.WebhookPollInterval,
		Policy:        policy,
		Retention:     a.cfg.OutboxRetention,
		DeadRetention: a.cfg.OutboxDeadRetention,
		Logger:        a.log,
	})
	bg := &background{
		log:   a.log,
		queue: queue,
		loops: []loop{
			{name: "webhook delivery", run: deliverer.Run},
			{name: "upgrade shared vector indexes", run: func(ctx context.Context) error { return upgradeVectorIndexes(ctx, a, db) }},
		},
		tasks: []periodic{
			{name: "delete expired webhook events", every: a.cfg.OutboxCleanupInterval, run: deliverer.DeleteExpired},
			{name: "fail lost ingest jobs", every: time.Minute, run: db.FailLostIngestJobs},
			{name: "delete expired console sessions", every: sessionSweepInterval, run: func(ctx context.Context) (int, error) {
				return db.DeleteExpiredSessions(ctx, a.cfg.ConsoleSessions)
			}},
			{name: "queue scheduled knowledge base syncs", every: a.cfg.SyncCheckInterval, run: func(ctx context.Context) (int, error) {
				return queueDueSyncs(ctx, db, syncQueue)
			}},
		},
	}
	return bg, ingest.On(queue), syncQueue, nil
}

// queueDueSyncs queues a sync job for each knowledge base whose scheduled
// sync is due (claimed, so that of several servers one queues each).
func queueDueSyncs(ctx context.Context, db *postgres.DB, q jobs.SyncEnqueuer) (int, error) {
	due, err := db.ClaimDueOrigins(ctx, 20)
	if err != nil {
		return 0, err
	}
	for i, o := range due {
		if err := q.QueueSync(ctx, o.WorkspaceID, o.KBID); err != nil {
			return i, fmt.Errorf("queue sync of knowledge base %s: %w", o.KBID, err)
		}
	}
	return len(due), nil
}

// upgradeVectorIndexes rebuilds, once and without holding up writes, the
// shared vector indexes created before migration 0020
// (postgres.DB.UpgradeVectorIndexes).
func upgradeVectorIndexes(ctx context.Context, a *app, db *postgres.DB) error {
	n, err := db.UpgradeVectorIndexes(ctx)
	if n > 0 {
		a.log.InfoContext(ctx, "shared vector indexes rebuilt with the predicate of migration 0020", "indexes", n)
	}
	if ctx.Err() != nil {
		return nil // stopped: the next start does the rest
	}
	return err
}
