package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/faqgen"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// pipelineEnv is one test's knowledge base and a pipeline writing to it.
type pipelineEnv struct {
	db   *postgres.DB
	pipe *ingest.Pipeline
	ws   string
	kb   string
}

func newPipelineEnv(t *testing.T) pipelineEnv {
	t.Helper()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	kb, _, err := db.EnsureKB(context.Background(), ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{}))
	return pipelineEnv{db: db, pipe: pipe, ws: ws.ID, kb: kb.ID}
}

// run loads csv as faq.csv and ingests it.
func (e pipelineEnv) run(t *testing.T, csv string, prune, dryRun bool) (ingest.Result, error) {
	t.Helper()
	docs, _, err := load(t, "faq.csv", csv, ingest.LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return e.pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs, Prune: prune, DryRun: dryRun})
}

// sources returns external id → chunk count of the knowledge base.
func (e pipelineEnv) sources(t *testing.T) map[string]int {
	t.Helper()
	srcs, err := e.db.ListSources(context.Background(), e.ws, e.kb, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range srcs {
		out[s.ExternalID] = s.Chunks
	}
	return out
}

const faqV1 = `id,question,answer
a,How do I reset my password?,Use the reset link.
b,Where is my order?,Track it in your account.
c,Can I pay by card?,Yes.
`

func TestPipelineAddsSkipsUpdatesAndPrunes(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	steps := []struct {
		name          string
		csv           string
		prune, dryRun bool
		want          ingest.Result
		wantSources   int
	}{
		// Each entry is two chunks: its question and its answer.
		{"first load", faqV1, false, false, ingest.Result{Added: 3, Chunks: 6, Embedded: 6}, 3},
		{"same again", faqV1, false, false, ingest.Result{Unchanged: 3}, 3},
		{"dry run of a change", strings.Replace(faqV1, "Yes.", "Yes, any card.", 1), false, true,
			ingest.Result{Updated: 1, Unchanged: 2, Chunks: 2, UpdatedIDs: []string{"c"}}, 3},
		{"dry run of an addition", faqV1 + "d,Do you ship abroad?,Yes.\n", false, true,
			ingest.Result{Added: 1, Unchanged: 3, Chunks: 2, AddedIDs: []string{"d"}}, 3},
		{"one answer changed", strings.Replace(faqV1, "Yes.", "Yes, any card.", 1), false, false,
			ingest.Result{Updated: 1, Unchanged: 2, Chunks: 2, Embedded: 2}, 3},
		{"without prune, a missing entry stays", "id,question,answer\na,How do I reset my password?,Use the reset link.\n", false, false,
			ingest.Result{Unchanged: 1}, 3},
		{"prune deletes the missing ones", "id,question,answer\na,How do I reset my password?,Use the reset link.\n", true, false,
			ingest.Result{Unchanged: 1, Pruned: 2}, 1},
	}
	for _, s := range steps {
		res, err := e.run(t, s.csv, s.prune, s.dryRun)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		res.Elapsed = 0
		if !reflect.DeepEqual(res, s.want) {
			t.Errorf("%s: result %+v, want %+v", s.name, res, s.want)
		}
		if got := e.sources(t); len(got) != s.wantSources {
			t.Errorf("%s: %d sources stored (%v), want %d", s.name, len(got), got, s.wantSources)
		}
	}
}

// failingEmbedder fails on any batch holding a text with "boom".
type failingEmbedder struct{ retrieval.Embedder }

func (f failingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	for _, t := range texts {
		if strings.Contains(t, "boom") {
			return nil, errors.New("embedder exploded")
		}
	}
	return f.Embedder.Embed(ctx, texts)
}

// A failure after some batches were written leaves the knowledge base as
// it was: the whole ingest is one transaction.
func TestPipelineFailureWritesNothing(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	if _, err := e.run(t, faqV1, false, false); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString(strings.Replace(faqV1, "Yes.", "Yes, any card.", 1))
	for i := range 700 { // several batches; the last one fails
		fmt.Fprintf(&csv, "n%d,New question number %d?,New.\n", i, i)
	}
	csv.WriteString("z,Will this go boom?,No.\n")
	docs, _, err := load(t, "faq.csv", csv.String(), ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.NewPipeline(e.db, failingEmbedder{retrieval.NewLocal()}, ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{}))
	_, err = pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs, Prune: true})
	if err == nil || !strings.Contains(err.Error(), "embedder exploded") {
		t.Fatalf("run with a failing embedder: err %v", err)
	}
	if got := e.sources(t); len(got) != 3 {
		t.Fatalf("after a failed run: %d sources, want the 3 of the first load", len(got))
	}
	res, err := e.run(t, faqV1, false, true)
	if err != nil || res.Unchanged != 3 {
		t.Fatalf("after a failed run the first load should be intact: %+v, %v", res, err)
	}
}

func TestPipelineRejectsBadRequests(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	a, _, err := load(t, "a.csv", "id,question,answer\nx,Q one?,A.\n", ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := load(t, "b.csv", "id,question,answer\nx,Q two?,B.\n", ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		docs []ingest.Document
		want string
	}{
		{"empty", nil, "nothing to ingest"},
		{"same id in two files", append(a, b...), `b.csv:2: field "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: tt.docs})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
			var ie *ingest.InputError
			if !errors.As(err, &ie) && parley.ErrorCode(err) != parley.EInvalid {
				t.Fatalf("err %v (%T) is neither an InputError nor invalid", err, err)
			}
		})
	}
}

// Several inputs follow the rule one file follows: an FAQ entry repeated
// with the same answer is written once, the same question with another
// answer is an error naming both places.
func TestPipelineRepeatsAcrossFiles(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	file := func(name, csv string) []ingest.Document {
		docs, _, err := load(t, name, csv, ingest.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return docs
	}
	a := file("a.csv", "question,answer\nHow long is delivery?,Two days.\nDo you ship abroad?,Yes.\n")
	same := file("b.csv", "question,answer\nHow long is delivery?,Two days.\n")
	other := file("c.csv", "question,answer\nHow long is delivery?,Three days.\n")

	res, err := e.pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: append(slices.Clone(a), same...)})
	if err != nil || res.Added != 2 || len(e.sources(t)) != 2 {
		t.Fatalf("a repeated entry: %+v, %v, sources %v; want 2 added", res, err, e.sources(t))
	}
	_, err = e.pipe.Run(context.Background(), ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: append(slices.Clone(a), other...)})
	wantInputError(t, err, "c.csv:2", "question", "a.csv:2")
}

// An ingest larger than DeferAbove is planned but not written; the plan,
// passed back, is written as planned, or planned again when the knowledge
// base changed in between.
func TestPipelineDefersLargeIngests(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	ctx := context.Background()
	docs := func(csv string) []ingest.Document {
		d, _, err := load(t, "faq.csv", csv, ingest.LoadOptions{})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		return d
	}
	check := func(name string, res ingest.Result, want ingest.Result, wantSources int) {
		t.Helper()
		res.Elapsed = 0
		if res.Deferred() != nil || !reflect.DeepEqual(res, want) {
			t.Errorf("%s: result %+v (deferred %v), want %+v", name, res, res.Deferred() != nil, want)
		}
		if got := e.sources(t); len(got) != wantSources {
			t.Errorf("%s: %d sources stored, want %d", name, len(got), wantSources)
		}
	}
	req := ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs(faqV1), DeferAbove: 6}
	res, err := e.pipe.Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	check("at the limit", res, ingest.Result{Added: 3, Chunks: 6, Embedded: 6}, 3)

	changed := strings.Replace(faqV1, "Yes.", "Yes, any card.", 1)
	req = ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs(changed), DeferAbove: 1}
	res, err = e.pipe.Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	plan := res.Deferred()
	if plan == nil || res.Changed() || res.Updated != 1 || res.Unchanged != 2 || res.Chunks != 2 || res.Embedded != 0 {
		t.Fatalf("over the limit: result %+v (deferred %v), want 1 updated and 2 unchanged planned, nothing written", res, plan != nil)
	}
	if _, err := e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Prune: true, Deferred: plan}); err == nil || !strings.Contains(err.Error(), "another request") {
		t.Fatalf("plan run with another Prune: err %v", err)
	}
	res, err = e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Deferred: plan})
	if err != nil {
		t.Fatal(err)
	}
	check("deferred plan", res, ingest.Result{Updated: 1, Unchanged: 2, Chunks: 2, Embedded: 2}, 3)

	// Planned against faqV1, written after another ingest changed "a" and
	// added "d": planned again, so "a" gets this upload's version back.
	res, err = e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs(faqV1), DeferAbove: 1})
	if err != nil || res.Deferred() == nil {
		t.Fatalf("deferring: %+v, %v", res, err)
	}
	plan = res.Deferred()
	other := strings.Replace(changed, "Use the reset link.", "Ask support.", 1) + "d,Do you ship abroad?,Yes.\n"
	if _, err := e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs(other)}); err != nil {
		t.Fatal(err)
	}
	res, err = e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Deferred: plan})
	if err != nil {
		t.Fatal(err)
	}
	check("stale plan", res, ingest.Result{Updated: 2, Unchanged: 1, Chunks: 4, Embedded: 4}, 4)
}

// A large load (5,000 chunks: it builds its workspace's vector index before
// committing) that fails writes nothing; one that succeeds counts its last
// entry only once committed, and its entries are found by search.
func TestPipelineLargeLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newPipelineEnv(t)
	docs := faqDocs(faqgen.Generate(2500, 45, 3))
	docs[2400].Answer += " boom"
	pipe := ingest.NewPipeline(e.db, failingEmbedder{retrieval.NewLocal()}, ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{}))
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs}); err == nil || !strings.Contains(err.Error(), "embedder exploded") {
		t.Fatalf("large load with a failing embedder: err %v", err)
	}
	if got := e.sources(t); len(got) != 0 {
		t.Fatalf("after a failed large load: %d sources, want none", len(got))
	}
	docs[2400].Answer = strings.TrimSuffix(docs[2400].Answer, " boom")
	var calls, early int
	res, err := e.pipe.Run(ctx, ingest.Request{WorkspaceID: e.ws, KBID: e.kb, Docs: docs, Progress: func(done, total int) {
		calls++
		hashes, err := e.db.SourceHashes(ctx, e.ws, e.kb) // another connection: sees only what is committed
		if err != nil {
			t.Error(err)
		}
		if done == total && len(hashes) != total || done < total && len(hashes) != 0 {
			early++
		}
	}})
	if err != nil || res.Chunks != 5000 {
		t.Fatalf("large load: %+v, %v", res, err)
	}
	if calls < 2 || early > 0 {
		t.Fatalf("%d progress reports, %d of them not true to what was committed", calls, early)
	}
	vec, err := retrieval.NewLocal().Embed(ctx, []string{docs[1234].Question})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := e.db.Search(ctx, parley.SearchQuery{WorkspaceID: e.ws, Model: retrieval.LocalModel, Vector: vec[0],
		Text: docs[1234].Question, Languages: []string{"en"}, Limit: 5})
	if err != nil || len(hits) == 0 || hits[0].ExternalID != docs[1234].ExternalID {
		t.Fatalf("search for an entry of the large load: %v, %+v", err, hits)
	}
}
