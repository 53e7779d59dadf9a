package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

const testModel = "test-4d"

// faqEntry is an FAQ entry of one chunk: its intent (or none), answer and
// 4-dimensional vector.
type faqEntry struct {
	id, intent, answer string
	vec                []float32
}

// writeFAQ ingests FAQ entries into a knowledge base of the workspace.
func writeFAQ(t *testing.T, db *postgres.DB, wsID, kb string, entries ...faqEntry) {
	t.Helper()
	ctx := context.Background()
	k, _, err := db.EnsureKB(ctx, wsID, kb)
	if err != nil {
		t.Fatal(err)
	}
	var batch []parley.SourceChunks
	for _, e := range entries {
		batch = append(batch, parley.SourceChunks{
			Source: parley.Source{Kind: "faq", ExternalID: e.id, Intent: e.intent, ContentHash: e.id + e.intent},
			Chunks: []parley.Chunk{{Text: "question " + e.id, Answer: e.answer, Embedding: e.vec}},
		})
	}
	err = db.Ingest(ctx, parley.IngestTarget{WorkspaceID: wsID, KBID: k.ID, Model: testModel, Dims: 4, Chunks: len(batch)}, func(w parley.SourceWriter) error { return w.Write(ctx, batch) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestClassifierRoundTripAndRetraining(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	writeFAQ(t, db, ws.ID, "kb",
		faqEntry{"a1", "alpha", "Alpha answer.", []float32{1, 0.1, 0, 0}},
		faqEntry{"a2", "alpha", "", []float32{0.9, 0, 0.1, 0}},
		faqEntry{"b1", "beta", "Beta answer.", []float32{0, 1, 0, 0.1}},
		faqEntry{"b2", "beta", "", []float32{0.1, 0.9, 0, 0}},
		faqEntry{"c1", "gamma", "Only one example.", []float32{0, 0, 1, 0}},
		faqEntry{"free", "", "No intent: not a training example.", []float32{0, 0, 0, 1}},
	)

	ids, groups, err := db.TrainingLabels(ctx, ws.ID, testModel)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 5 || !slices.IsSorted(ids) || slices.Contains(groups, "source:free") {
		t.Fatalf("training labels %v %v: want the 5 intent chunks by id", ids, groups)
	}
	n := 0
	err = db.TrainingExamples(ctx, ws.ID, testModel, func(e retrieval.Example) error {
		if e.ID != ids[n] || e.Group != groups[n] || len(e.Vector) != 4 {
			return fmt.Errorf("example %d: %+v, want id %d group %s with 4 dimensions", n, e, ids[n], groups[n])
		}
		n++
		return nil
	})
	if err != nil || n != 5 {
		t.Fatalf("training examples: %d, %v", n, err)
	}

	if c, err := db.Classifier(ctx, ws.ID, testModel); c != nil || err != nil {
		t.Fatalf("before training: %v, %v; want none", c, err)
	}
	tr := retrieval.NewTrainer(db, retrieval.TrainOptions{})
	res, err := tr.Train(ctx, ws.ID, testModel)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != retrieval.TrainTrained || res.Classes != 2 || res.Examples != 4 {
		t.Fatalf("train: %+v; want 2 classes (gamma has one example) from 4 examples", res)
	}
	c, err := db.Classifier(ctx, ws.ID, testModel)
	if err != nil || c == nil {
		t.Fatalf("load: %v, %v", c, err)
	}
	if !slices.Equal(c.Classes, []string{"intent:alpha", "intent:beta"}) || c.Dims != 4 || c.Examples != 4 ||
		len(c.Weights) != 8 || len(c.Bias) != 2 || c.DataHash == "" || c.TrainedAt.IsZero() {
		t.Fatalf("loaded %+v", c)
	}
	// What was stored is what was trained: the same data and options give
	// the same weights.
	var examples []retrieval.Example
	if err := db.TrainingExamples(ctx, ws.ID, testModel, func(e retrieval.Example) error {
		examples = append(examples, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fresh, err := retrieval.TrainClassifier(examples, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Weights, fresh.Weights) || !slices.Equal(c.Bias, fresh.Bias) || !slices.Equal(c.Scale, fresh.Scale) || len(c.Scale) != c.Dims {
		t.Error("the stored weights differ from a fresh training on the same data")
	}
	if p := c.Prior([]float32{1, 0, 0, 0}); p["intent:alpha"] <= p["intent:beta"] {
		t.Errorf("prior %v: want alpha likelier", p)
	}
	v, ok, err := db.ClassifierVersion(ctx, ws.ID, testModel)
	if err != nil || !ok || v != c.Version {
		t.Fatalf("version %v %v %v, want %v", v, ok, err, c.Version)
	}

	// Nothing changed: no training.
	if res, err = tr.Train(ctx, ws.ID, testModel); err != nil || res.Status != retrieval.TrainUnchanged {
		t.Fatalf("retrain unchanged: %+v, %v", res, err)
	}
	if again, _, _ := db.ClassifierVersion(ctx, ws.ID, testModel); again != v {
		t.Error("an unchanged training replaced the classifier")
	}
	// A second example of gamma makes it a class.
	writeFAQ(t, db, ws.ID, "kb", faqEntry{"c2", "gamma", "", []float32{0, 0.1, 0.9, 0}})
	if res, err = tr.Train(ctx, ws.ID, testModel); err != nil || res.Status != retrieval.TrainTrained || res.Classes != 3 {
		t.Fatalf("retrain after ingest: %+v, %v", res, err)
	}
	if again, _, _ := db.ClassifierVersion(ctx, ws.ID, testModel); again <= v {
		t.Errorf("version %v did not move past %v", again, v)
	}
	// Other models and workspaces have none.
	if c, err := db.Classifier(ctx, ws.ID, "other-model"); c != nil || err != nil {
		t.Errorf("other model: %v, %v", c, err)
	}

	// The knowledge loses its labels: the classifier goes.
	if err := db.DeleteClassifier(ctx, ws.ID, testModel); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.ClassifierHash(ctx, ws.ID, testModel); ok || err != nil {
		t.Fatalf("after delete: %v, %v", ok, err)
	}
}

func TestTrainerDeletesClassifierWithoutClasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	// A stale classifier, and knowledge with one intent only.
	stale := &retrieval.Classifier{Classes: []string{"intent:x", "intent:y"}, Dims: 2,
		Weights: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}, Examples: 4, DataHash: "old"}
	if err := db.SaveClassifier(ctx, ws.ID, testModel, stale); err != nil {
		t.Fatal(err)
	}
	writeFAQ(t, db, ws.ID, "kb",
		faqEntry{"a1", "alpha", "A.", []float32{1, 0, 0, 0}},
		faqEntry{"a2", "alpha", "A.", []float32{0.9, 0.1, 0, 0}})
	res, err := retrieval.NewTrainer(db, retrieval.TrainOptions{}).Train(ctx, ws.ID, testModel)
	if err != nil || res.Status != retrieval.TrainNone {
		t.Fatalf("train: %+v, %v; want none", res, err)
	}
	if c, err := db.Classifier(ctx, ws.ID, testModel); c != nil || err != nil {
		t.Errorf("classifier %v, %v; want it deleted", c, err)
	}
	// A malformed classifier is refused.
	bad := &retrieval.Classifier{Classes: []string{"intent:x"}, Dims: 2, Weights: []float32{1}, Bias: []float32{0}}
	if err := db.SaveClassifier(ctx, ws.ID, testModel, bad); err == nil {
		t.Error("saved a classifier with too few weights")
	}
}

func TestGroupHits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	writeFAQ(t, db, ws.ID, "kb",
		faqEntry{"a1", "alpha", "Alpha answer.", []float32{0, 1, 0, 0}},
		faqEntry{"a2", "alpha", "", []float32{1, 0, 0, 0}},
		faqEntry{"b1", "beta", "Beta answer.", []float32{0, 0, 1, 0}},
		faqEntry{"g1", "gamma", "Gamma answer.", []float32{0, 0, 0, 1}},
	)
	q := parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{1, 0, 0, 0}}
	hits, err := db.GroupHits(ctx, q, []string{"intent:alpha", "intent:beta", "intent:missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("%d hits, want one for each of alpha and beta: %+v", len(hits), hits)
	}
	a, b := hits[0], hits[1]
	if a.GroupKey != "intent:alpha" || a.ExternalID != "a2" || a.Similarity < 0.999 || a.Answer != "Alpha answer." || a.Intent != "alpha" {
		t.Errorf("alpha: %+v; want its nearest chunk a2 with the group's answer", a)
	}
	if b.GroupKey != "intent:beta" || b.ExternalID != "b1" || b.Answer != "Beta answer." || b.VectorRank != 0 || b.TextRank != 0 {
		t.Errorf("beta: %+v", b)
	}
	if hits, err := db.GroupHits(ctx, q, nil); hits != nil || err != nil {
		t.Errorf("no groups: %v, %v", hits, err)
	}
	// Another workspace sees nothing of these.
	other := pgtest.Workspace(t)
	q.WorkspaceID = other.ID
	if hits, err := db.GroupHits(ctx, q, []string{"intent:alpha"}); len(hits) != 0 || err != nil {
		t.Errorf("other workspace: %v, %v", hits, err)
	}
}

// GroupAnswer gives a group's answer as GroupHits carries it, "" for a
// group of labelled examples only or an unknown one, and nothing of
// another workspace's.
func TestGroupAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	writeFAQ(t, db, ws.ID, "kb",
		faqEntry{"a1", "alpha", "Alpha answer.", []float32{0, 1, 0, 0}},
		faqEntry{"a2", "alpha", "", []float32{1, 0, 0, 0}},
		faqEntry{"b1", "beta", "Beta answer.", []float32{0, 0, 1, 0}},
		faqEntry{"b2", "beta", "Other beta answer.", []float32{1, 0, 0.1, 0}},
		faqEntry{"e1", "examples", "", []float32{0.9, 0.1, 0, 0}},
	)
	q := parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{1, 0, 0, 0}}
	for group, want := range map[string]string{
		"intent:alpha":    "Alpha answer.",      // its nearest chunk has none: the group's answer
		"intent:beta":     "Other beta answer.", // the nearest chunk's own answer
		"intent:examples": "",                   // labelled examples only
		"intent:missing":  "",
	} {
		if got, err := db.GroupAnswer(ctx, q, group); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", group, got, err, want)
		}
	}
	q.WorkspaceID = pgtest.Workspace(t).ID
	if got, err := db.GroupAnswer(ctx, q, "intent:alpha"); got != "" || err != nil {
		t.Errorf("other workspace: %q, %v", got, err)
	}
}

// A workspace of labelled examples only needs no query for an intent's
// answer; once it gets its first answer text, GroupAnswer finds it at once
// on the replica that wrote it.
func TestGroupAnswerAfterTheFirstAnswerText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	writeFAQ(t, db, ws.ID, "kb",
		faqEntry{"e1", "alpha", "", []float32{1, 0, 0, 0}},
		faqEntry{"e2", "beta", "", []float32{0, 1, 0, 0}})
	q := parley.SearchQuery{WorkspaceID: ws.ID, Model: testModel, Vector: []float32{1, 0, 0, 0}}
	if got, err := db.GroupAnswer(ctx, q, "intent:alpha"); got != "" || err != nil {
		t.Fatalf("labelled examples only: %q, %v; want no answer", got, err)
	}
	writeFAQ(t, db, ws.ID, "faq", faqEntry{"a1", "alpha", "Alpha answer.", []float32{0, 0, 1, 0}})
	if got, err := db.GroupAnswer(ctx, q, "intent:alpha"); got != "Alpha answer." || err != nil {
		t.Errorf("after the first answer text: %q, %v; want %q", got, err, "Alpha answer.")
	}
}
