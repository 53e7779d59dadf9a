package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
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
// none) are asked of the answer engine (embed, search, decide, store) in
// another workspace of 2,400 entries (4,800 chunks) loaded beforehand, by
// a process of its own (TestAnswerLoad), each at its due time, so a slow
// answer delays none of the next; their latencies and that process's CPU
// are reported. (The workspace being loaded has nothing to
// answer from until the load commits: its questions would all escalate.)
//
// The store has one connection. Its vector index builds run as the
// product's do, with the server's parallel workers
// (max_parallel_maintenance_workers, 2 by default), or serially with
// PARLEY_SCALE_SERIAL set. The database CPU reported is its backend's and
// its parallel workers' (sampled every 100 ms, see sampleWorkers).
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
	serial := os.Getenv("PARLEY_SCALE_SERIAL") != ""
	builds := "the server's parallel workers"
	if serial {
		builds = "serial"
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
		if serial {
			if _, err := db.Pool().Exec(ctx, `SET max_parallel_maintenance_workers = 0`); err != nil {
				t.Fatal(err)
			}
		}
		ws, kb := benchKB(t, db)
		pipe := ingest.NewPipeline(db, embedder, chunker)

		var answers *answerLoad
		if rate > 0 {
			answers = startAnswers(t, url, pipe, rate)
		}
		var written time.Time // when the last batch was written, before the index build and commit
		run := func() (ingest.Result, timing) {
			leader, _ := backendCPU(t, db)
			workers := sampleWorkers(t, url, leader)
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
			m := stop()
			if w := workers(); m.db >= 0 {
				m.db += w
			}
			return res, m
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
		t.Logf("%d entries (%d chunks, %d intents): first load %s = %.0f entries/s (writing %s, then index build (%s) and commit %s); re-ingest unchanged %s (load average %s)%s",
			n, res.Chunks, (n+44)/45, first, float64(n)/first.wall.Seconds(), sec(written.Sub(start)), builds, sec(build), reload, loadAverage(), load)
	}
}

// sampleWorkers reads, every 100 ms until the function it returns is
// called, the CPU time of the parallel workers of the backend leader (an
// index build's), and that function returns their last readings added up:
// of each worker, at most its last 100 ms of work are missed.
func sampleWorkers(t *testing.T, url string, leader int) func() time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := postgres.Open(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	cpu := map[int32]time.Duration{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			rows, err := db.Pool().Query(ctx, `SELECT pid FROM pg_stat_activity WHERE leader_pid = $1 AND pid <> $1`, leader)
			for err == nil && rows.Next() {
				var pid int32
				if rows.Scan(&pid) == nil {
					if c := pidCPU(int(pid)); c >= 0 {
						cpu[pid] = c
					}
				}
			}
			if err == nil {
				rows.Close()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Duration {
		cancel()
		<-done
		db.Close()
		var sum time.Duration
		for _, c := range cpu {
			sum += c
		}
		return sum
	}
}

func faqDocs(entries []faqgen.Entry) []ingest.Document {
	docs := make([]ingest.Document, len(entries))
	for i, e := range entries {
		docs[i] = ingest.Document{ExternalID: e.ID, Kind: ingest.KindFAQ, Question: e.Question, Answer: e.Answer, Intent: e.Intent}
	}
	return docs
}

// answerLoad is a process of its own (this test binary running
// TestAnswerLoad) asking questions of the answer engine at a steady rate
// until its standard input closes: its latencies are not the loading
// process's wait for a CPU.
type answerLoad struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
}

// startAnswers loads a workspace of its own (through pipe) and starts a
// process asking its questions, rate a second, through a store of its own
// on url.
func startAnswers(t *testing.T, url string, pipe *ingest.Pipeline, rate float64) *answerLoad {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws, _, err := db.EnsureWorkspace(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := db.EnsureKB(ctx, ws.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: answerDocs()}); err != nil {
		t.Fatal(err)
	}
	l := &answerLoad{cmd: exec.Command(os.Args[0], "-test.run=^TestAnswerLoad$", "-test.count=1")}
	l.cmd.Env = append(os.Environ(), "PARLEY_SCALE_ANSWER_URL="+url, "PARLEY_SCALE_ANSWER_WORKSPACE="+ws.ID,
		fmt.Sprintf("PARLEY_SCALE_ANSWER_RATE=%g", rate))
	l.cmd.Stdout, l.cmd.Stderr = &l.out, os.Stderr
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("start the answering process: %v", err)
	}
	return l
}

// answerDocs are the questions and answers of the workspace answered
// during a load.
func answerDocs() []ingest.Document { return faqDocs(faqgen.Generate(2400, 45, 2)) }

// stop ends the answering process and returns its report, with its CPU.
func (l *answerLoad) stop(t *testing.T) string {
	t.Helper()
	_ = l.stdin.Close()
	err := l.cmd.Wait()
	_, report, found := strings.Cut(l.out.String(), answersLine)
	report, _, _ = strings.Cut(report, "\n")
	if err != nil || !found {
		t.Errorf("answering process: %v\n%s", err, l.out.String())
	}
	cpu := l.cmd.ProcessState.UserTime() + l.cmd.ProcessState.SystemTime()
	return fmt.Sprintf("; %s (answering process CPU %s)", report, sec(cpu))
}

const answersLine = "answers: "

// TestAnswerLoad is the answering process of TestIngestScale (see
// answerLoad), run by it; it answers until its standard input closes and
// prints its report on a line of its own.
func TestAnswerLoad(t *testing.T) {
	url := os.Getenv("PARLEY_SCALE_ANSWER_URL")
	if url == "" {
		t.Skip("run by TestIngestScale")
	}
	rate, err := strconv.ParseFloat(os.Getenv("PARLEY_SCALE_ANSWER_RATE"), 64)
	if err != nil || rate <= 0 {
		t.Fatalf("PARLEY_SCALE_ANSWER_RATE: %q", os.Getenv("PARLEY_SCALE_ANSWER_RATE"))
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws, err := db.Workspace(ctx, os.Getenv("PARLEY_SCALE_ANSWER_WORKSPACE"))
	if err != nil {
		t.Fatal(err)
	}
	engine := reply.New(db, retrieval.NewLocal(), reply.Options{Classifiers: db})
	docs := answerDocs()
	stopped := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stopped)
	}()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		lat    []time.Duration
		status = map[string]int{}
		errs   []error
	)
	start := time.Now()
	for k := 0; ; k++ {
		due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
		select {
		case <-stopped:
		case <-time.After(time.Until(due)):
			wg.Go(func() {
				res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Channel: "bench", Text: docs[k%len(docs)].Question})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				lat = append(lat, time.Since(due))
				status[res.Status]++
			})
			continue
		}
		break
	}
	wg.Wait()
	if len(lat) == 0 {
		fmt.Printf("%sno answers, %d failed\n", answersLine, len(errs))
		return
	}
	slices.Sort(lat)
	p99 := lat[(len(lat)*99+99)/100-1]
	fmt.Printf("%squestions in another workspace during the first load, from a process of their own: %d (%v), %d failed, p50 %s, p99 %s, max %s\n",
		answersLine, len(lat), status, len(errs), ms(median(lat)), ms(p99), ms(lat[len(lat)-1]))
	for i, err := range errs[:min(3, len(errs))] {
		t.Errorf("answer failed (%d of %d shown): %v", i+1, len(errs), err)
	}
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
