package ingest_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/faqgen"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// TestIngestScale measures the first load and the unchanged re-ingest of
// generated FAQ knowledge (internal/faqgen: question and answer, so two
// chunks an entry; 45 entries an intent) at each size in
// PARLEY_SCALE_ENTRIES (comma-separated, e.g. "10000,100000"), each into a
// fresh migrated schema with the model's (empty) shared HNSW index. Nothing
// is stored in the repository: the data is made here.
//
// During each first load, PARLEY_SCALE_ANSWER_RATE answers a second (0:
// none) are asked of the answer engine (in process: embed, search, decide,
// store), alternately in the workspace being loaded and in another one of
// 2,400 entries (4,800 chunks: in the shared HNSW index, over the
// exact-search limit) loaded beforehand, each at its due time, so a slow
// answer delays none of the next; their latencies are reported.
//
// The store has one connection, whose backend CPU is reported, and builds
// its vector indexes serially (max_parallel_maintenance_workers = 0 on it)
// so that this CPU is all of the database's work on the load.
//
//	make bench-scale-ingest SIZES=10000,100000
func TestIngestScale(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_ENTRIES")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_ENTRIES to the sizes to load (make bench-scale-ingest does)")
	}
	rate, err := strconv.ParseFloat(os.Getenv("PARLEY_SCALE_ANSWER_RATE"), 64)
	if err != nil {
		rate = 0
	}
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	chunker := ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{})
	ns, err := faqgen.Sizes(sizes, 1)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_ENTRIES: %v", err)
	}
	for _, n := range ns {
		docs := faqDocs(faqgen.Generate(n, 45, 1))
		db, url := pgtest.FreshDBURL(t, 1)
		if err := db.EnsureVectorIndex(ctx, embedder.Model(), embedder.Dimensions()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool().Exec(ctx, `SET max_parallel_maintenance_workers = 0`); err != nil {
			t.Fatal(err)
		}
		ws, kb := benchKB(t, db)
		pipe := ingest.NewPipeline(db, embedder, chunker)

		var answers *answerLoad
		if rate > 0 {
			answers = startAnswers(t, url, embedder, pipe, ws, docs, rate)
		}
		var written time.Time // when the last batch was written, before the index build and commit
		run := func() (ingest.Result, timing) {
			stop := startTiming(t, db)
			res, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs,
				Progress: func(done, total int) {
					if done == total-1 {
						written = time.Now()
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			return res, stop()
		}
		start := time.Now()
		res, first := run()
		build := time.Since(written)
		var load string
		if answers != nil {
			load = answers.stop(t)
		}
		if res.Added != n {
			t.Fatalf("%d entries: %+v", n, res)
		}
		again, reload := run()
		if again.Unchanged != n || again.Embedded != 0 {
			t.Fatalf("%d entries again: %+v", n, again)
		}
		t.Logf("%d entries (%d chunks, %d intents): first load %s = %.0f entries/s (writing %s, then index build and commit %s); re-ingest unchanged %s (load average %s)%s",
			n, res.Chunks, (n+44)/45, first, float64(n)/first.wall.Seconds(), sec(written.Sub(start)), sec(build), reload, loadAverage(), load)
	}
}

func faqDocs(entries []faqgen.Entry) []ingest.Document {
	docs := make([]ingest.Document, len(entries))
	for i, e := range entries {
		docs[i] = ingest.Document{ExternalID: e.ID, Kind: ingest.KindFAQ, Question: e.Question, Answer: e.Answer, Intent: e.Intent}
	}
	return docs
}

// answerLoad asks questions of the answer engine at a steady rate until
// stopped.
type answerLoad struct {
	stopped chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	lat     [2][]time.Duration // by workspace: the one loaded, the other
	errs    []error
}

// startAnswers loads a second workspace (through pipe) and starts asking
// questions of docs in ws and of the second workspace's own, alternately,
// rate a second in all, through a store of its own on url.
func startAnswers(t *testing.T, url string, embedder retrieval.Embedder, pipe *ingest.Pipeline, ws parley.Workspace, docs []ingest.Document, rate float64) *answerLoad {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	other, _, err := db.EnsureWorkspace(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := db.EnsureKB(ctx, other.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	otherDocs := faqDocs(faqgen.Generate(2400, 45, 2))
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: other.ID, KBID: kb.ID, Docs: otherDocs}); err != nil {
		t.Fatal(err)
	}
	engine := reply.New(db, embedder, reply.Options{Classifiers: db})
	l := &answerLoad{stopped: make(chan struct{})}
	l.wg.Go(func() {
		start := time.Now()
		for k := 0; ; k++ {
			due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
			select {
			case <-l.stopped:
				return
			case <-time.After(time.Until(due)):
			}
			w, q := ws, docs[k/2%len(docs)].Question
			if k%2 == 1 {
				w, q = other, otherDocs[k/2%len(otherDocs)].Question
			}
			l.wg.Go(func() {
				_, err := engine.Answer(ctx, reply.Request{Workspace: w, Channel: "bench", Text: q})
				l.mu.Lock()
				defer l.mu.Unlock()
				if err != nil {
					l.errs = append(l.errs, err)
					return
				}
				l.lat[k%2] = append(l.lat[k%2], time.Since(due))
			})
		}
	})
	return l
}

// stop ends the load, waits for the answers asked, and describes their
// latencies.
func (l *answerLoad) stop(t *testing.T) string {
	close(l.stopped)
	l.wg.Wait()
	all := append(slices.Clone(l.lat[0]), l.lat[1]...)
	if len(l.errs) > 0 {
		t.Errorf("%d of %d answers failed during the load, first: %v", len(l.errs), len(all)+len(l.errs), l.errs[0])
	}
	slices.Sort(all)
	p99 := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[(len(d)*99+99)/100-1]
	}
	if len(l.lat[0]) == 0 || len(l.lat[1]) == 0 {
		return "; no answers"
	}
	return fmt.Sprintf("; answers during the first load: %d, %d failed, p50 %s, p99 %s, max %s (p99 in the workspace loaded %s, in the other %s)",
		len(all), len(l.errs), ms(median(all)), ms(p99(all)), ms(all[len(all)-1]), ms(p99(l.lat[0])), ms(p99(l.lat[1])))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1000) }
