package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

const benchSynopsis = `bench SUITE [flags]

Measures the answer path with a suite's knowledge (loaded as parley eval
does) and its cases as questions:
  1. engine against bare search: the same questions answered one at a time
     by the reply engine in process, and searched with the bare SQL it
     issues (vectors computed beforehand); medians, their ratio, the
     median of the per-question ratios, the engine's step times, and each
     leg of the search (vector, keyword) timed alone;
  2. load: POST /v1/answer from --clients concurrent clients for --duration
     against a server on a loopback port: requests/s, latency percentiles,
     errors. With --rate the clients together offer that many requests per
     second on a fixed schedule, and latency counts from each request's
     scheduled time (a late server is not excused by sending later); with
     --rate 0 they send as fast as answers come back.

The workspace's conversations are cleared and the tables the answer path
writes vacuumed first, so repeated runs measure the same thing.

Example:
  parley bench evals/suites/banking77/suite.json --clients 16 --rate 300 --duration 20s`

func runBench(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "bench", benchSynopsis)
	clients := fs.Int("clients", 16, "concurrent HTTP clients")
	duration := fs.Duration("duration", 20*time.Second, "length of the load phase")
	samples := fs.Int("samples", 1000, "questions timed one at a time in the engine/search phase")
	rate := fs.Float64("rate", 300, "requests per second offered by all clients together (0: as fast as possible)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the load phase to `file` (read it with go tool pprof)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("bench takes one SUITE manifest")
	}
	suite, err := evals.LoadSuite(fs.Arg(0))
	if err != nil {
		return err
	}
	cases, err := suite.LoadCases()
	if err != nil {
		return err
	}
	questions := make([]string, len(cases))
	for i, c := range cases {
		questions[i] = c.Question()
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	runner, engine, embedder, err := newSuiteRunner(a, db, suite, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		return err
	}
	ws, err := runner.Prepare(ctx, suite, suite.Workspace())
	if err != nil {
		return err
	}
	if err := db.VacuumConversations(ctx); err != nil {
		return err
	}

	eng, bare, steps, err := engineVersusSearch(ctx, db, engine, embedder, ws, questions, *samples)
	if err != nil {
		return err
	}
	// The load phase starts from tables that hold conversations and whose
	// statistics say so, as autovacuum keeps them in production. With the
	// statistics of the empty tables left by the clean-up above (and no
	// autovacuum, as on the project's machines), PostgreSQL checks each
	// new message's conversation with a sequential scan whose cost grows
	// with every request of the run (BENCHMARKS.md).
	if err := warmUp(ctx, engine, ws, questions, loadStartConversations-min(*samples, len(questions))); err != nil {
		return err
	}
	if err := db.VacuumConversations(ctx); err != nil {
		return err
	}
	load, err := loadPhase(ctx, db, engine, ws, questions, a.cfg.MaxBodyBytes, *clients, *rate, *duration, *cpuProfile)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "suite %s, workspace %s, %d questions\n\n", suite.Name, ws.Name, len(questions))
	fmt.Fprintf(tw, "one at a time (%d questions)\tmedian\tp90\n", *samples)
	fmt.Fprintf(tw, "  engine.Answer (embed, search, decide, store)\t%s\t%s\n", ms(median(eng)), ms(pct(eng, 0.9)))
	fmt.Fprintf(tw, "  bare SQL search (vector + full text)\t%s\t%s\n", ms(median(bare)), ms(pct(bare, 0.9)))
	fmt.Fprintf(tw, "    vector leg alone\t%s\t%s\n", ms2(median(steps.vector)), ms2(pct(steps.vector, 0.9)))
	fmt.Fprintf(tw, "    keyword leg alone\t%s\t%s\n", ms2(median(steps.text)), ms2(pct(steps.text, 0.9)))
	fmt.Fprintf(tw, "  ratio of the medians, engine / search\t%.2f\t\n", median(eng).Seconds()/median(bare).Seconds())
	fmt.Fprintf(tw, "  median of the per-question ratios\t%.2f\t\n", medianRatio(eng, bare))
	fmt.Fprintf(tw, "  engine steps: embed\t%s\t\n", ms2(median(steps.embed)))
	fmt.Fprintf(tw, "    search (as the engine saw it)\t%s\t\n", ms2(median(steps.search)))
	fmt.Fprintf(tw, "    rank (classifier lookups, vote)\t%s\t\n", ms2(median(steps.rank)))
	fmt.Fprintf(tw, "    store the outcome (escalation or answer)\t%s\t\n", ms2(median(steps.outcome)))
	fmt.Fprintf(tw, "    store the customer's message (during the search)\t%s\t\n\n", ms2(median(steps.customer)))
	fmt.Fprintf(tw, "load: %d clients, offered %s, %s\trequests/s %.0f\trequests %d\terrors %d\n", *clients, offered(*rate), *duration, load.rps, len(load.lat), load.errors)
	fmt.Fprintf(tw, "  latency\tp50 %s\tp90 %s\tp99 %s\tmax %s\n", ms(median(load.lat)), ms(pct(load.lat, 0.9)), ms(pct(load.lat, 0.99)), ms(pct(load.lat, 1)))
	fmt.Fprintf(tw, "  CPU per request\tparley (server and clients) %s\tPostgreSQL %s\n", ms2(perRequest(load.selfCPU, load)), cpuFigure(load.dbCPU, load))
	tw.Flush()
	fmt.Fprintf(a.stdout, "\nrerun: parley bench %s --clients %d --rate %g --duration %s --samples %d\n", fs.Arg(0), *clients, *rate, *duration, *samples)
	if *cpuProfile != "" {
		fmt.Fprintf(a.stdout, "CPU profile of the load phase: go tool pprof -top %s\n", *cpuProfile)
	}
	if load.errors > 0 {
		return fmt.Errorf("%d requests failed", load.errors)
	}
	return nil
}

// engineSteps are the engine's step times (reply.Timings) of each answer,
// and the times of the search's two legs run alone.
type engineSteps struct {
	embed, search, rank, customer, outcome []time.Duration
	vector, text                           []time.Duration
}

// engineVersusSearch times the engine answering each question and the bare
// search it issues, and each leg of that search alone, alternating, one at
// a time.
func engineVersusSearch(ctx context.Context, db *postgres.DB, engine *reply.Engine, embedder retrieval.Embedder, ws parley.Workspace, questions []string, n int) (eng, bare []time.Duration, steps engineSteps, err error) {
	n = min(n, len(questions))
	vecs, err := embedder.Embed(ctx, questions[:n])
	if err != nil {
		return nil, nil, steps, err
	}
	for i := range n {
		q := parley.SearchQuery{WorkspaceID: ws.ID, Model: embedder.Model(), Vector: vecs[i], Text: questions[i], Languages: reply.SearchLanguages(ws.Settings.DefaultLanguage(), ws.Settings), Limit: reply.SearchLimit}
		start := time.Now()
		if _, err := db.Search(ctx, q); err != nil {
			return nil, nil, steps, err
		}
		bare = append(bare, time.Since(start))
		start = time.Now()
		if _, err := db.VectorSearch(ctx, q); err != nil {
			return nil, nil, steps, err
		}
		steps.vector = append(steps.vector, time.Since(start))
		start = time.Now()
		if _, err := db.TextSearch(ctx, q); err != nil {
			return nil, nil, steps, err
		}
		steps.text = append(steps.text, time.Since(start))
		start = time.Now()
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Channel: "bench", Text: questions[i]})
		if err != nil {
			return nil, nil, steps, err
		}
		eng = append(eng, time.Since(start))
		t := res.Timings
		steps.embed, steps.search, steps.rank = append(steps.embed, t.Embed), append(steps.search, t.Search), append(steps.rank, t.Rank)
		steps.customer, steps.outcome = append(steps.customer, t.Customer), append(steps.outcome, t.Outcome)
	}
	return eng, bare, steps, nil
}

// loadStartConversations is how many conversations the bench's workspace
// holds when the load phase starts.
const loadStartConversations = 1000

// warmUp answers n questions one at a time, each in a conversation of its
// own.
func warmUp(ctx context.Context, engine *reply.Engine, ws parley.Workspace, questions []string, n int) error {
	for i := range n {
		if _, err := engine.Answer(ctx, reply.Request{Workspace: ws, Channel: "bench", Text: questions[i%len(questions)]}); err != nil {
			return fmt.Errorf("warm up: %w", err)
		}
	}
	return nil
}

type loadResult struct {
	lat    []time.Duration
	errors int
	rps    float64
	// selfCPU and dbCPU are the CPU time this process (server and
	// clients) and the database's server processes used in the load phase
	// (dbCPU -1: not known).
	selfCPU, dbCPU time.Duration
}

// perRequest is d shared among the load phase's requests.
func perRequest(d time.Duration, r loadResult) time.Duration {
	return d / time.Duration(max(1, len(r.lat)+r.errors))
}

// cpuFigure shows the database's CPU time per request, when known.
func cpuFigure(d time.Duration, r loadResult) string {
	if d < 0 {
		return "not known (database not on this host)"
	}
	return ms2(perRequest(d, r))
}

// loadPhase serves the API on a loopback port and posts questions to
// /v1/answer from several clients for a while, at rate requests/s in all
// (as fast as possible when rate is 0), measuring the CPU it takes and
// writing a Go CPU profile of it to profile when that is not empty.
func loadPhase(ctx context.Context, db *postgres.DB, engine *reply.Engine, ws parley.Workspace, questions []string, maxBody int64, clients int, rate float64, d time.Duration, profile string) (loadResult, error) {
	var res loadResult
	_, key, err := db.CreateKey(ctx, ws.ID, "bench", parley.RoleWidget)
	if err != nil {
		return res, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &http.Server{Handler: api.New(db, engine, api.Options{Logger: quiet, MaxBodyBytes: maxBody, Ready: db.Ping}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/answer"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}

	meter, err := startCPU(ctx, db)
	if err != nil {
		return res, err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return res, fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Client c sends its k-th request at start + (k*clients+c)/rate.
			for k, i := 0, c; time.Now().Before(deadline) && ctx.Err() == nil; k, i = k+1, i+clients {
				due := time.Now()
				if rate > 0 {
					due = start.Add(time.Duration(float64(k*clients+c) / rate * float64(time.Second)))
					if !due.Before(deadline) {
						break
					}
					time.Sleep(time.Until(due))
				}
				body, _ := json.Marshal(map[string]any{"message": map[string]string{"text": questions[i%len(questions)]}})
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				if ok {
					res.lat = append(res.lat, time.Since(due))
				} else {
					res.errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.rps = float64(len(res.lat)) / time.Since(start).Seconds()
	if res.selfCPU, res.dbCPU, err = meter.stop(ctx); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

func offered(rate float64) string {
	if rate <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%g/s", rate)
}

func median(d []time.Duration) time.Duration { return pct(d, 0.5) }

// medianRatio is the median of a[i]/b[i]: each question's engine time over
// its own search time, which machine noise between questions moves less.
func medianRatio(a, b []time.Duration) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i].Seconds() / b[i].Seconds()
	}
	slices.Sort(r)
	return evals.Percentile(r, 0.5)
}

// pct is the p-th percentile (nearest rank, as the eval reports) of d.
func pct(d []time.Duration, p float64) time.Duration {
	return evals.Percentile(slices.Sorted(slices.Values(d)), p)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ms2(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
