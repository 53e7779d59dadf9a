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
// During each first load, PARLEY_SCALE_ANSWER_RATE questions a second (0:
// none) are asked of the answer engine (in process: embed, search, decide,
// store) in another workspace of 2,400 entries (4,800 chunks: in the
// shared HNSW index, over the exact-search limit) loaded beforehand, each
// at its due time, so a slow answer delays none of the next; their
// latencies are reported. (The workspace being loaded has nothing to
// answer from until the load commits: its questions would all escalate.)
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
			answers = startAnswers(t, url, embedder, pipe, rate)
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
	lat     []time.Duration
	status  map[string]int
	errs    []error
}

// startAnswers loads a workspace of its own (through pipe) and starts
// asking its questions, rate a second, through a store of its own on url.
func startAnswers(t *testing.T, url string, embedder retrieval.Embedder, pipe *ingest.Pipeline, rate float64) *answerLoad {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ws, _, err := db.EnsureWorkspace(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	docs := faqDocs(faqgen.Generate(2400, 45, 2))
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs}); err != nil {
		t.Fatal(err)
	}
	engine := reply.New(db, embedder, reply.Options{Classifiers: db})
	l := &answerLoad{stopped: make(chan struct{}), status: map[string]int{}}
	l.wg.Go(func() {
		start := time.Now()
		for k := 0; ; k++ {
			due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
			select {
			case <-l.stopped:
				return
			case <-time.After(time.Until(due)):
			}
			l.wg.Go(func() {
				res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Channel: "bench", Text: docs[k%len(docs)].Question})
				l.mu.Lock()
				defer l.mu.Unlock()
				if err != nil {
					l.errs = append(l.errs, err)
					return
				}
				l.lat = append(l.lat, time.Since(due))
				l.status[res.Status]++
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
	if len(l.errs) > 0 {
		t.Errorf("%d of %d answers failed during the load, first: %v", len(l.errs), len(l.lat)+len(l.errs), l.errs[0])
	}
	if len(l.lat) == 0 {
		return "; no answers"
	}
	slices.Sort(l.lat)
	p99 := l.lat[(len(l.lat)*99+99)/100-1]
	return fmt.Sprintf("; questions in another workspace during the first load: %d (%v), %d failed, p50 %s, p99 %s, max %s",
		len(l.lat), l.status, len(l.errs), ms(median(l.lat)), ms(p99), ms(l.lat[len(l.lat)-1]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1000) }

// TestIngestScaleParts splits a first load of generated FAQ knowledge into
// its parts, at each size in PARLEY_SCALE_PARTS, on one backend: the
// pipeline writing into no vector index at all (chunking and embedding in
// Go; COPY, inserts, tsvector, the GIN and btree indexes, statistics in
// the database), then, on the rows written, to_tsvector alone, ANALYZE
// alone, and the model's HNSW index built serially in memory. With
// PARLEY_SCALE_ROW_BY_ROW set, also the rows copied into a table that has
// the index already, as every load did before (at 100,000 entries: hours
// on a loaded machine).
//
//	PARLEY_SCALE_PARTS=10000,100000 go test -run TestIngestScaleParts -v -timeout 120m ./ingest/
func TestIngestScaleParts(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_PARTS")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_PARTS to the sizes to load")
	}
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	chunker := ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{})
	ns, err := faqgen.Sizes(sizes, 1)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_PARTS: %v", err)
	}
	index := func(table string) string {
		return fmt.Sprintf(`CREATE INDEX ON %s USING hnsw ((embedding::public.vector(%d)) public.vector_cosine_ops)
			WITH (m = 12, ef_construction = 64) WHERE embed_model = '%s'`, table, embedder.Dimensions(), embedder.Model())
	}
	for _, n := range ns {
		db := pgtest.FreshDB(t, 1)
		ws, kb := benchKB(t, db)
		stop := startTiming(t, db)
		pipe := ingest.NewPipeline(unindexed{db}, embedder, chunker)
		if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: faqDocs(faqgen.Generate(n, 45, 1))}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d entries: written into no vector index: %s (load average %s)", n, stop(), loadAverage())
		steps := [][2]string{
			{"to_tsvector of every chunk", `SELECT count(to_tsvector('simple', text)) FROM chunks`},
			{"ANALYZE", `ANALYZE sources, chunks`},
			{"", `SET maintenance_work_mem = '3GB'`},
			{"", `SET max_parallel_maintenance_workers = 0`},
			{"HNSW index built serially", index("chunks")},
		}
		if os.Getenv("PARLEY_SCALE_ROW_BY_ROW") != "" {
			steps = append(steps, [2]string{"", `CREATE TABLE indexed (LIKE chunks)`}, [2]string{"", index("indexed")},
				[2]string{"rows inserted into the HNSW index one by one", `INSERT INTO indexed SELECT * FROM chunks`})
		}
		for _, s := range steps {
			stop := startTiming(t, db)
			if _, err := db.Pool().Exec(ctx, s[1]); err != nil {
				t.Fatalf("%s: %v", s[1], err)
			}
			if s[0] != "" {
				t.Logf("%d entries: %s: %s (load average %s)", n, s[0], stop(), loadAverage())
			}
		}
	}
}

// unindexed is a store whose loads write into no vector index: the model
// has none, and no load builds one.
type unindexed struct{ *postgres.DB }

func (unindexed) EnsureVectorIndex(context.Context, string, int) error { return nil }

func (u unindexed) Ingest(ctx context.Context, target parley.IngestTarget, fn func(parley.SourceWriter) error) error {
	target.Chunks = 0 // not a large load
	return u.DB.Ingest(ctx, target, fn)
}
