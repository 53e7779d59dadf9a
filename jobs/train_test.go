package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// gatedTrainer is the real trainer, held at a gate while the test looks
// (it starts held), failing the next fails calls.
type gatedTrainer struct {
	inner   *retrieval.Trainer
	started chan struct{} // a training began (buffered)
	fails   atomic.Int32
	calls   atomic.Int32

	mu   sync.Mutex
	gate chan struct{} // closed: trainings go ahead
}

func newGatedTrainer(db *postgres.DB) *gatedTrainer {
	return &gatedTrainer{inner: retrieval.NewTrainer(db, retrieval.TrainOptions{}), started: make(chan struct{}, 100), gate: make(chan struct{})}
}

func (g *gatedTrainer) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedTrainer) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.gate)
}

func (g *gatedTrainer) Train(ctx context.Context, ws, model string) (retrieval.TrainResult, error) {
	g.calls.Add(1)
	g.started <- struct{}{}
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return retrieval.TrainResult{}, ctx.Err()
	}
	if g.fails.Add(-1) >= 0 {
		return retrieval.TrainResult{}, errors.New("training exploded")
	}
	return g.inner.Train(ctx, ws, model)
}

// trainEnv is one workspace with a knowledge base "faq", a knowledge
// service that queues its trainings, and a queue running them.
type trainEnv struct {
	t       *testing.T
	db      *postgres.DB
	ws      parley.Workspace
	kb      parley.KnowledgeBase
	svc     *knowledge.Service
	trainer *gatedTrainer
	queue   *postgres.Queue
	log     *syncbuf.Buffer
}

var queueSeq atomic.Int64

func newTrainEnv(t *testing.T) *trainEnv {
	t.Helper()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	trainer := newGatedTrainer(db)
	pipe := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
	svc := knowledge.New(db, pipe, trainer, retrieval.LocalModel, log)
	w := jobs.NewTrain(db, svc, log)
	name := fmt.Sprintf("train_%d_%d", time.Now().UnixNano(), queueSeq.Add(1))
	q := startQueue(t, db, w.Register, postgres.QueueOptions{Name: name, Logger: log})
	svc.WithTrainingQueue(w.On(q, nil))
	return &trainEnv{t: t, db: db, ws: ws, kb: kb, svc: svc, trainer: trainer, queue: q, log: logs}
}

// ingest writes FAQ entries, two phrasings of each intent named.
func (e *trainEnv) ingest(intents ...string) {
	e.t.Helper()
	var docs []ingest.Document
	for _, in := range intents {
		for i, q := range []string{"What about %s?", "Tell me about %s please"} {
			docs = append(docs, ingest.Document{ExternalID: fmt.Sprintf("%s-%d", in, i), Kind: ingest.KindFAQ, Intent: in,
				Question: fmt.Sprintf(q, in), Answer: "This is the answer about " + in + "."})
		}
	}
	if _, err := e.svc.Ingest(context.Background(), ingest.Request{WorkspaceID: e.ws.ID, KBID: e.kb.ID, Docs: docs}); err != nil {
		e.t.Fatal(err)
	}
}

// classes returns the classes of the classifier a replica's cache serves.
func (e *trainEnv) classes(cache *retrieval.ClassifierCache) []string {
	e.t.Helper()
	c, err := cache.Get(context.Background(), e.ws.ID, retrieval.LocalModel)
	if err != nil {
		e.t.Fatal(err)
	}
	if c == nil {
		return nil
	}
	return c.Classes
}

// waitClasses waits until the replica's cache serves a classifier of
// want.
func (e *trainEnv) waitClasses(cache *retrieval.ClassifierCache, want ...string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(e.classes(cache), want) {
		if time.Now().After(deadline) {
			e.t.Fatalf("replica serves %v, want %v; log:\n%s", e.classes(cache), want, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *trainEnv) waitStarted() {
	e.t.Helper()
	select {
	case <-e.trainer.started:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("no training started; log:\n%s", e.log.String())
	}
}

func classesOf(intents ...string) []string {
	var out []string
	for _, in := range intents {
		out = append(out, parley.IntentGroupPrefix+in)
	}
	slices.Sort(out)
	return out
}

// An ingest returns without waiting for its training; while the job runs,
// answering keeps the previous model; when it ends, every replica swaps in
// the new one (the caches stand for two replicas' engines, checking every
// 20 ms instead of the engine's 5 s).
func TestTrainingRunsInTheBackgroundWhileTheOldModelServes(t *testing.T) {
	t.Parallel()
	e := newTrainEnv(t)
	e.trainer.release()
	replica1 := retrieval.NewClassifierCache(e.db, 20*time.Millisecond)
	e.ingest("delivery", "refund")
	e.waitStarted()
	e.waitClasses(replica1, classesOf("delivery", "refund")...)
	first, _, _ := e.db.ClassifierVersion(context.Background(), e.ws.ID, retrieval.LocalModel)

	e.trainer.hold()
	e.ingest("delivery", "refund", "password") // returns while the training waits at the gate
	e.waitStarted()
	time.Sleep(100 * time.Millisecond) // several of the replica's checks
	if got := e.classes(replica1); !slices.Equal(got, classesOf("delivery", "refund")) {
		t.Fatalf("during the training the replica serves %v, want the previous model", got)
	}
	e.trainer.release()
	e.waitClasses(replica1, classesOf("delivery", "password", "refund")...)
	replica2 := retrieval.NewClassifierCache(e.db, 20*time.Millisecond)
	if got := e.classes(replica2); !slices.Equal(got, classesOf("delivery", "password", "refund")) {
		t.Fatalf("a second replica serves %v", got)
	}
	if v, _, _ := e.db.ClassifierVersion(context.Background(), e.ws.ID, retrieval.LocalModel); v <= first {
		t.Errorf("version %d after retraining, want more than %d", v, first)
	}
}

// A training that fails keeps the previous model, is logged with the
// workspace, and runs again.
func TestFailedTrainingKeepsTheModelAndRunsAgain(t *testing.T) {
	t.Parallel()
	e := newTrainEnv(t)
	e.trainer.release()
	replica := retrieval.NewClassifierCache(e.db, 20*time.Millisecond)
	e.ingest("delivery", "refund")
	e.waitClasses(replica, classesOf("delivery", "refund")...)

	e.trainer.fails.Store(1)
	calls := e.trainer.calls.Load()
	e.ingest("delivery", "refund", "password")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(e.log.String(), "training failed; the previous model keeps serving, and it will run again") {
		if time.Now().After(deadline) {
			t.Fatalf("no failure logged:\n%s", e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.classes(replica); !slices.Equal(got, classesOf("delivery", "refund")) {
		t.Fatalf("after the failed training the replica serves %v, want the previous model", got)
	}
	for _, line := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(line, "training failed") && (!strings.Contains(line, "workspace_id="+e.ws.ID) || !strings.Contains(line, "training exploded")) {
			t.Errorf("the failure's line does not name the workspace and the error: %s", line)
		}
	}
	// River runs it again after its backoff (1 s, then its scheduler).
	e.waitClasses(replica, classesOf("delivery", "password", "refund")...)
	if n := e.trainer.calls.Load() - calls; n != 2 {
		t.Errorf("%d trainings, want 2 (the failed one and its retry)", n)
	}
}

// Changes while a training runs join it (one job per workspace), and it
// trains again before it ends, on the latest knowledge: the model left is
// that of all the changes, and the burst cost one more training, not one
// per change.
func TestChangesDuringATrainingGiveOneMoreOnTheLatestKnowledge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTrainEnv(t)
	e.ingest("delivery", "refund")
	e.waitStarted() // held at the gate, on two intents
	calls := e.trainer.calls.Load()
	e.ingest("delivery", "refund", "password")
	e.ingest("delivery", "refund", "password", "invoice")
	e.ingest("delivery", "refund", "password", "invoice", "address")
	e.trainer.release()

	replica := retrieval.NewClassifierCache(e.db, 20*time.Millisecond)
	e.waitClasses(replica, classesOf("address", "delivery", "invoice", "password", "refund")...)
	// The job ends only once its last round saw the knowledge unchanged.
	id, err := e.queue.QueueTraining(ctx, e.ws.ID, jobs.TrainArgs{WorkspaceID: e.ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	if state, msg, err := e.queue.WaitJob(ctx, id, 20*time.Millisecond); err != nil || state != "completed" {
		t.Fatalf("training job %d: %s %s %v", id, state, msg, err)
	}
	if !strings.Contains(e.log.String(), "the knowledge changed during the training: training again") {
		t.Errorf("the job did not see the changes made while it ran:\n%s", e.log.String())
	}
	if n := e.trainer.calls.Load() - calls; n > 2 {
		t.Errorf("%d more trainings for a burst of 3 changes, want at most 2 (the round that saw them, and the check above)", n)
	}
	ids, groups, err := e.db.TrainingLabels(ctx, e.ws.ID, retrieval.LocalModel)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := e.db.ClassifierHash(ctx, e.ws.ID, retrieval.LocalModel)
	if err != nil {
		t.Fatal(err)
	}
	if stored != retrieval.TrainingHash(ids, groups, retrieval.TrainOptions{}) {
		t.Error("the stored classifier was not trained on the latest knowledge")
	}
}
