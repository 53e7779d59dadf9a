package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// trainedKnowledge is the knowledge service `parley serve` runs: it trains
// with the real Trainer over the test database after every change.
func trainedKnowledge(t *testing.T, log *slog.Logger) *knowledge.Service {
	return testKnowledge(t, retrieval.NewTrainer(pgtest.DB(t), retrieval.TrainOptions{}), log)
}

// queuedKnowledge is the knowledge service as `parley serve` wires it: it
// queues a training job after every change, run by a queue of its own
// with the real Trainer over the test database. The count is of the
// trainings queued.
func queuedKnowledge(t *testing.T) (*knowledge.Service, *atomic.Int64) {
	t.Helper()
	svc := trainedKnowledge(t, nil)
	w := jobs.NewTrain(pgtest.DB(t), svc, nil)
	workers := river.NewWorkers()
	w.Register(workers)
	q := startQueue(t, fmt.Sprintf("train_%d_%d", time.Now().UnixNano(), queueSeq.Add(1)), workers)
	counted := &countedQueue{q: w.On(q, nil)}
	return svc.WithTrainingQueue(counted), &counted.n
}

// countedQueue counts the trainings queued through it.
type countedQueue struct {
	q knowledge.TrainingQueue
	n atomic.Int64
}

func (c *countedQueue) QueueTraining(ctx context.Context, workspaceID string) error {
	c.n.Add(1)
	return c.q.QueueTraining(ctx, workspaceID)
}

// intentRecords are FAQ entries of three intents, two examples each: the
// fewest a class needs.
const intentRecords = `{"records": [
	{"id": "d1", "question": "Where is my parcel?", "answer": "It is on its way.", "intent": "delivery"},
	{"id": "d2", "question": "When will my order arrive?", "intent": "delivery"},
	{"id": "r1", "question": "Can I get my money back?", "answer": "Yes, within 30 days.", "intent": "refund"},
	{"id": "r2", "question": "How do I return an item for a refund?", "intent": "refund"},
	{"id": "p1", "question": "How do I reset my password?", "answer": "Use the reset link.", "intent": "password"},
	{"id": "p2", "question": "I forgot my password", "intent": "password"}
]}`

// sourcesOf returns the ids of the sources of knowledge base "faq" with
// the intent.
func (e *ingestEnv) sourcesOf(intent string) []int64 {
	e.t.Helper()
	status, body := e.do("GET", "/v1/knowledge-bases/faq/sources", e.admin, "")
	if status != 200 {
		e.t.Fatalf("list sources: %d %v", status, body)
	}
	var ids []int64
	for _, s := range body["sources"].([]any) {
		if src := s.(map[string]any); src["intent"] == intent {
			ids = append(ids, int64(src["id"].(float64)))
		}
	}
	return ids
}

// wantClasses checks the classes of the workspace's stored classifier;
// none wanted means none stored.
func wantClasses(t *testing.T, workspaceID string, want ...string) {
	t.Helper()
	if msg := classesDiffer(t, workspaceID, want...); msg != "" {
		t.Fatal(msg)
	}
}

// waitClasses waits until the workspace's stored classifier is of want
// (none: none stored), trained by a background job.
func waitClasses(t *testing.T, workspaceID string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg := classesDiffer(t, workspaceID, want...)
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg + " (after 30 s)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func classesDiffer(t *testing.T, workspaceID string, want ...string) string {
	t.Helper()
	c, err := pgtest.DB(t).Classifier(context.Background(), workspaceID, retrieval.LocalModel)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(want) == 0 && c != nil:
		return fmt.Sprintf("classifier of %v stored, want none", c.Classes)
	case len(want) > 0 && c == nil:
		return fmt.Sprintf("no classifier stored, want one of %v", want)
	case len(want) > 0 && !slices.Equal(c.Classes, want):
		return fmt.Sprintf("classifier of %v stored, want %v", c.Classes, want)
	}
	return ""
}

// The retrain rule over HTTP, as `parley serve` runs it: an upload written
// before the response, and each delete, queue a training job that brings
// the classifier up to date; a dry run does not.
func TestKnowledgeChangesRetrainTheClassifier(t *testing.T) {
	t.Parallel()
	know, queued := queuedKnowledge(t)
	e := newIngestEnv(t, func(o *api.Options) { o.Knowledge = know })
	status, body, _ := e.uploadJSON("faq", strings.Replace(intentRecords, `"records"`, `"dry_run": true, "records"`, 1))
	wantResult(t, status, body, map[string]float64{"added": 6})
	if n := queued.Load(); n != 0 {
		t.Fatalf("a dry run queued %d trainings", n)
	}
	status, body, _ = e.uploadJSON("faq", intentRecords)
	wantResult(t, status, body, map[string]float64{"added": 6})
	waitClasses(t, e.ws.ID, "intent:delivery", "intent:password", "intent:refund")

	refunds := e.sourcesOf("refund")
	if len(refunds) != 2 {
		t.Fatalf("refund sources %v, want 2", refunds)
	}
	for _, id := range refunds {
		if status, body := e.do("DELETE", fmt.Sprintf("/v1/knowledge-bases/faq/sources/%d", id), e.admin, ""); status != 204 {
			t.Fatalf("delete source %d: %d %v", id, status, body)
		}
	}
	waitClasses(t, e.ws.ID, "intent:delivery", "intent:password")

	if status, body := e.do("DELETE", "/v1/knowledge-bases/faq", e.admin, ""); status != 204 {
		t.Fatalf("delete knowledge base: %d %v", status, body)
	}
	waitClasses(t, e.ws.ID)
	if n := queued.Load(); n != 4 {
		t.Errorf("%d trainings queued, want 4 (an upload, three deletes)", n)
	}
}

// An upload too large to write before the response is written by a
// background job, which queues a training as the upload would have.
func TestIngestJobRetrainsTheClassifier(t *testing.T) {
	t.Parallel()
	know, _ := queuedKnowledge(t)
	e := newIngestEnv(t, func(o *api.Options) { o.SyncIngestMax, o.Knowledge = 1, know })
	status, body, location := e.uploadJSON("faq", intentRecords)
	if status != 202 {
		t.Fatalf("upload: %d %v, want a job", status, body)
	}
	wantClasses(t, e.ws.ID)
	if job := e.pollJob(location); job["state"] != "succeeded" {
		t.Fatalf("job: %v", job)
	}
	waitClasses(t, e.ws.ID, "intent:delivery", "intent:password", "intent:refund")
}

// failingTrainer fails every training.
type failingTrainer struct{}

func (failingTrainer) Train(context.Context, string, string) (retrieval.TrainResult, error) {
	return retrieval.TrainResult{}, errors.New("training exploded")
}

// An upload or delete that committed is answered as such even when
// retraining fails; the failure is logged with the workspace.
func TestChangeStandsWhenRetrainingFails(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e := newIngestEnv(t, func(o *api.Options) {
		o.Knowledge = testKnowledge(t, failingTrainer{}, log)
		o.Logger = log
	})
	status, body, _ := e.upload("faq", e.admin, []uploadFile{csvFile("faq.csv", faqCSV)})
	wantResult(t, status, body, map[string]float64{"added": 3})
	_, body = e.do("GET", "/v1/knowledge-bases/faq/sources", e.admin, "")
	id := int64(body["sources"].([]any)[0].(map[string]any)["id"].(float64))
	if status, body := e.do("DELETE", fmt.Sprintf("/v1/knowledge-bases/faq/sources/%d", id), e.admin, ""); status != 204 {
		t.Fatalf("delete source: %d %v", status, body)
	}
	if n := e.sourceCount(); n != 2 {
		t.Fatalf("%d sources after the delete, want 2", n)
	}
	if status, body := e.do("DELETE", "/v1/knowledge-bases/faq", e.admin, ""); status != 204 {
		t.Fatalf("delete knowledge base: %d %v", status, body)
	}
	if status, body := e.do("GET", "/v1/knowledge-bases/faq", e.admin, ""); status != 404 {
		t.Fatalf("knowledge base after the delete: %d %v", status, body)
	}
	var warnings int
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `msg="intent classifier not retrained after a knowledge change; the change stands"`) {
			continue
		}
		warnings++
		if !strings.Contains(line, " workspace_id="+e.ws.ID+" ") || !strings.Contains(line, ` err="training exploded"`) {
			t.Errorf("warning does not name the workspace and the error: %s", line)
		}
	}
	if warnings != 3 {
		t.Errorf("%d warnings, want one per change (an upload, two deletes):\n%s", warnings, logs.String())
	}
}
