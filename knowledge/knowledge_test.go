package knowledge_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// countingTrainer counts trainings, failing them with err when set.
type countingTrainer struct {
	mu  sync.Mutex
	n   int
	err error
}

func (c *countingTrainer) Train(_ context.Context, _, model string) (retrieval.TrainResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if model != retrieval.LocalModel {
		return retrieval.TrainResult{}, errors.New("trained for model " + model)
	}
	c.n++
	return retrieval.TrainResult{Status: retrieval.TrainUnchanged}, c.err
}

func (c *countingTrainer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// newService returns a service over the test database training with
// trainer, and a workspace with a knowledge base "faq".
func newService(t *testing.T, trainer knowledge.Trainer, log *slog.Logger) (*knowledge.Service, parley.Workspace, parley.KnowledgeBase) {
	t.Helper()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(context.Background(), ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
	return knowledge.New(db, pipe, trainer, retrieval.LocalModel, log), ws, kb
}

// docs returns FAQ entries, one per id, each of an intent of its own.
func docs(ids ...string) []ingest.Document {
	var out []ingest.Document
	for _, id := range ids {
		out = append(out, ingest.Document{ExternalID: id, Kind: ingest.KindFAQ, Intent: "intent-" + id,
			Question: "What about " + id + "?", Answer: "This is the answer about " + id + "."})
	}
	return out
}

// countingQueue counts the trainings queued, by workspace.
type countingQueue struct {
	mu sync.Mutex
	ws []string
}

func (q *countingQueue) QueueTraining(_ context.Context, workspaceID string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ws = append(q.ws, workspaceID)
	return nil
}

// The one rule: a written ingest and every delete train; a dry run, an
// ingest deferred to a job and a failed change do not. Without a training
// queue the service trains in line; with one it queues a training job for
// the workspace instead, and trains nothing itself.
func TestRetrainRule(t *testing.T) {
	t.Parallel()
	t.Run("in line", func(t *testing.T) {
		t.Parallel()
		trainer := &countingTrainer{}
		svc, ws, kb := newService(t, trainer, nil)
		testRetrainRule(t, svc, ws, kb, trainer.count)
	})
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		trainer := &countingTrainer{}
		svc, ws, kb := newService(t, trainer, nil)
		queue := &countingQueue{}
		svc.WithTrainingQueue(queue)
		testRetrainRule(t, svc, ws, kb, func() int {
			if n := trainer.count(); n != 0 {
				t.Errorf("trained %d times in line, with a training queue", n)
			}
			queue.mu.Lock()
			defer queue.mu.Unlock()
			for _, id := range queue.ws {
				if id != ws.ID {
					t.Errorf("training queued for workspace %s, want %s", id, ws.ID)
				}
			}
			n := len(queue.ws)
			queue.ws = nil
			return n
		})
	})
}

func testRetrainRule(t *testing.T, svc *knowledge.Service, ws parley.Workspace, kb parley.KnowledgeBase, trainings func() int) {
	ctx := context.Background()
	req := func(r ingest.Request) ingest.Request {
		r.WorkspaceID, r.KBID = ws.ID, kb.ID
		return r
	}
	steps := []struct {
		name   string
		change func() error
		trains int
	}{
		{"dry run", func() error {
			_, err := svc.Ingest(ctx, req(ingest.Request{Docs: docs("a", "b"), DryRun: true}))
			return err
		}, 0},
		{"deferred to a job", func() error {
			res, err := svc.Ingest(ctx, req(ingest.Request{Docs: docs("a", "b"), DeferAbove: 1}))
			if err == nil && res.Deferred() == nil {
				return errors.New("the ingest was not deferred")
			}
			return err
		}, 0},
		{"written", func() error {
			_, err := svc.Ingest(ctx, req(ingest.Request{Docs: docs("a", "b")}))
			return err
		}, 1},
		{"written again, unchanged (the trainer tells)", func() error {
			_, err := svc.Ingest(ctx, req(ingest.Request{Docs: docs("a", "b")}))
			return err
		}, 1},
		{"a failed ingest", func() error {
			_, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: "00000000-0000-0000-0000-000000000000", Docs: docs("c")})
			if err == nil {
				return errors.New("an ingest into no knowledge base succeeded")
			}
			return nil
		}, 0},
		{"delete a source", func() error {
			return svc.DeleteSource(ctx, ws.ID, kb.ID, parley.SourceRef{ExternalID: "a"})
		}, 1},
		{"delete a missing source", func() error {
			if err := svc.DeleteSource(ctx, ws.ID, kb.ID, parley.SourceRef{ExternalID: "a"}); parley.ErrorCode(err) != parley.ENotFound {
				return errors.New("deleting a missing source: " + parley.ErrorMessage(err))
			}
			return nil
		}, 0},
		{"delete the knowledge base", func() error {
			return svc.DeleteKB(ctx, ws.ID, kb.ID)
		}, 1},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := trainings(); n != s.trains {
			t.Errorf("%s: trained %d times, want %d", s.name, n, s.trains)
		}
	}
}

// A training that fails leaves the change written and is logged with the
// workspace and the error.
func TestChangeStandsWhenTrainingFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	svc, ws, kb := newService(t, &countingTrainer{err: errors.New("training exploded")}, slog.New(slog.NewTextHandler(&logs, nil)))
	res, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs("a")})
	if err != nil || res.Added != 1 {
		t.Fatalf("ingest: %+v, %v; want it written", res, err)
	}
	line := logs.String()
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "workspace_id="+ws.ID) || !strings.Contains(line, `err="training exploded"`) {
		t.Fatalf("log: %s", line)
	}
}

// countingCalibrator counts calibrations, failing them with err when set.
type countingCalibrator struct {
	mu  sync.Mutex
	ws  []string
	err error
}

func (c *countingCalibrator) Calibrate(_ context.Context, workspaceID string) (retrieval.Calibration, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws = append(c.ws, workspaceID)
	return retrieval.Calibration{Threshold: 0.6, Target: 0.95}, c.err == nil, c.err
}

// The calibration follows every change the classifier does, also without a
// classifier; a failed one leaves the change standing.
func TestCalibrationFollowsChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	svc, ws, kb := newService(t, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	cal := &countingCalibrator{}
	svc.WithCalibrator(cal)
	if _, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs("a", "b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs("c"), DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteSource(ctx, ws.ID, kb.ID, parley.SourceRef{ExternalID: "a"}); err != nil {
		t.Fatal(err)
	}
	if len(cal.ws) != 2 || cal.ws[0] != ws.ID || !strings.Contains(logs.String(), "calibration: answers from confidence 0.600") {
		t.Fatalf("calibrated %v, log %s; want twice (ingest and delete, not the dry run)", cal.ws, logs.String())
	}
	cal.err = errors.New("calibration exploded")
	if res, err := svc.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs("d")}); err != nil || res.Added != 1 {
		t.Fatalf("ingest with a failing calibration: %+v, %v; want it written", res, err)
	}
	if !strings.Contains(logs.String(), `err="calibration exploded"`) {
		t.Fatalf("log: %s", logs.String())
	}
}
