package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley/postgres/pgtest"
)

// TestScaleWorkspacesBenchmark measures vector search for one workspace
// among many in one database (make bench-scale-workspaces): for each
// number of workspaces in PARLEY_SCALE_WORKSPACES (each of
// PARLEY_SCALE_WS_CHUNKS chunks, 1,000 by default), the p50 and p99 of a
// top-10 search in one workspace and its recall@10 against exact search,
// for each layout:
//
//   - exact: the workspace's rows found by a btree on the workspace, all
//     compared (what Search does for a workspace of up to 2,000 chunks);
//   - shared: one HNSW index over every workspace's vectors, the
//     workspace filter applied during an iterative scan
//     (hnsw.iterative_scan = relaxed_order, ef_search 40), as Search does
//     for larger workspaces whose rows are in the shared index;
//   - partial: the same table, the measured workspace with an HNSW index of
//     its own (WHERE workspace = it), as a large load gives it;
//   - partitioned: the table list-partitioned by workspace, one partition
//     (and HNSW index) per workspace.
//
// The vectors are generated (PARLEY_SCALE_WS_DIMS dimensions, 128 by
// default), not embedded text: 100 topics shared by all workspaces (each
// workspace uses 20 of them), each workspace's own direction added, and
// noise, normalised; so a query's nearest neighbours in the shared graph
// are mostly other workspaces' chunks on the same topic, the hard case for
// a filter. Queries are fresh vectors drawn the same way for the measured
// workspace. PARLEY_SCALE_WS_SKIP_SHARED=1 leaves the shared layout out.
// Everything lives in schema bench_scale_ws_N of the test
// database, dropped at the end; nothing is stored in the repository.
func TestScaleWorkspacesBenchmark(t *testing.T) {
	sizes := intList(os.Getenv("PARLEY_SCALE_WORKSPACES"))
	if len(sizes) == 0 {
		t.Skip("set PARLEY_SCALE_WORKSPACES to numbers of workspaces, e.g. 1,1000 (make bench-scale-workspaces does)")
	}
	cfg := scaleConfig{
		chunks:  envInt("PARLEY_SCALE_WS_CHUNKS", 1000),
		dims:    envInt("PARLEY_SCALE_WS_DIMS", 128),
		queries: envInt("PARLEY_SCALE_WS_QUERIES", 300),
		runs:    envInt("PARLEY_SCALE_WS_RUNS", 3),
		// The shared index's build is most of the time at 1,000
		// workspaces (over half an hour on a loaded 2-core machine).
		skipShared: os.Getenv("PARLEY_SCALE_WS_SKIP_SHARED") != "",
	}
	ctx := context.Background()
	pool := pgtest.DB(t).Pool()
	for _, n := range sizes {
		t.Run(fmt.Sprintf("workspaces=%d", n), func(t *testing.T) { scaleWorkspaces(ctx, t, pool, cfg, n) })
	}
}

type scaleConfig struct {
	chunks, dims, queries, runs int
	skipShared                  bool
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func intList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// vectorGen draws the benchmark's vectors.
type vectorGen struct {
	rng    *rand.Rand
	dims   int
	topics [][]float32
}

func newVectorGen(dims int) *vectorGen {
	g := &vectorGen{rng: rand.New(rand.NewPCG(1, 2)), dims: dims}
	for range 100 {
		g.topics = append(g.topics, g.unit())
	}
	return g
}

func (g *vectorGen) unit() []float32 {
	v := make([]float32, g.dims)
	for i := range v {
		v[i] = float32(g.rng.NormFloat64())
	}
	return normalize(v)
}

func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
	return v
}

// workspace is one workspace's generator: its topics and direction.
type workspaceGen struct {
	topics []int
	own    []float32
}

func (g *vectorGen) workspace() workspaceGen {
	return workspaceGen{topics: g.rng.Perm(len(g.topics))[:20], own: g.unit()}
}

// vector draws a chunk (or a question) of workspace w: one of its topics
// (norm 1), plus its own direction (norm 0.5), plus noise (norm about 1).
func (g *vectorGen) vector(w workspaceGen) []float32 {
	topic := g.topics[w.topics[g.rng.IntN(len(w.topics))]]
	v := make([]float32, g.dims)
	scale := 1 / math.Sqrt(float64(g.dims))
	for i := range v {
		v[i] = topic[i] + 0.5*w.own[i] + float32(g.rng.NormFloat64()*scale)
	}
	return normalize(v)
}

func scaleWorkspaces(ctx context.Context, t *testing.T, pool *pgxpool.Pool, cfg scaleConfig, n int) {
	schema := fmt.Sprintf("bench_scale_ws_%d", n)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%.80s: %v", sql, err)
		}
	}
	exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
	exec(`CREATE SCHEMA ` + schema)
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	exec(fmt.Sprintf(`CREATE TABLE `+schema+`.flat (id bigint, workspace int NOT NULL, embedding public.vector(%d) NOT NULL)`, cfg.dims))
	exec(fmt.Sprintf(`CREATE TABLE `+schema+`.part (id bigint, workspace int NOT NULL, embedding public.vector(%d) NOT NULL) PARTITION BY LIST (workspace)`, cfg.dims))

	gen := newVectorGen(cfg.dims)
	target := n / 2
	var targetGen workspaceGen
	start := time.Now()
	id := int64(0)
	for w := range n {
		wg := gen.workspace()
		if w == target {
			targetGen = wg
		}
		rows := make([][]any, cfg.chunks)
		for i := range rows {
			id++
			rows[i] = []any{id, w, pgvector.NewVector(gen.vector(wg))}
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, "flat"}, []string{"id", "workspace", "embedding"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatal(err)
		}
	}
	load := time.Since(start)
	exec(`CREATE INDEX flat_workspace ON ` + schema + `.flat (workspace)`)

	// Builds get memory for the graph and one parallel worker.
	build := func(sql string) time.Duration {
		t.Helper()
		start := time.Now()
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		for _, s := range []string{`SET maintenance_work_mem = '2GB'`, `SET max_parallel_maintenance_workers = 1`, sql,
			`RESET maintenance_work_mem`, `RESET max_parallel_maintenance_workers`} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("%.80s: %v", s, err)
			}
		}
		return time.Since(start)
	}
	var sharedBuild time.Duration
	if !cfg.skipShared {
		sharedBuild = build(`CREATE INDEX flat_hnsw ON ` + schema + `.flat USING hnsw (embedding public.vector_cosine_ops)`)
	}
	exec(`VACUUM ANALYZE ` + schema + `.flat`)

	queries := make([][]float32, cfg.queries)
	for i := range queries {
		queries[i] = gen.vector(targetGen)
	}
	// exact: the planner's choice for the workspace's rows, the HNSW index
	// left out; the others force an HNSW index by forbidding the sort, as
	// Search does.
	hnsw := `SELECT set_config('enable_sort', 'off', true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '40', true)`
	var truth [][]int64
	measure := func(name, settings, sql string) {
		t.Helper()
		ids, runs, plan := runLayout(ctx, t, pool, settings, sql, target, queries, cfg.runs)
		if name == "exact" {
			truth = ids
		}
		recall := 0.0
		for i := range ids {
			for _, x := range ids[i] {
				if slices.Contains(truth[i], x) {
					recall++
				}
			}
		}
		recall /= float64(10 * len(ids))
		var p50s, p99s []float64
		for _, lat := range runs {
			slices.Sort(lat)
			p50s, p99s = append(p50s, ms(lat[len(lat)/2])), append(p99s, ms(lat[len(lat)*99/100]))
		}
		loadavg, _ := os.ReadFile("/proc/loadavg")
		t.Logf("SCALE-WS workspaces=%d layout=%s p50=%.2fms p99=%.2fms (medians of %d runs: p50 %v, p99 %v) recall@10=%.3f plan=%q load=%s",
			n, name, median(p50s), median(p99s), len(runs), p50s, p99s, recall, plan, strings.Join(strings.Fields(string(loadavg))[:3], " "))
	}
	measure("exact", `SELECT set_config('enable_indexscan', 'off', true)`,
		`SELECT id FROM `+schema+`.flat WHERE workspace = $1 ORDER BY embedding <=> $2 LIMIT 10`)
	if !cfg.skipShared {
		measure("shared", hnsw, `SELECT id FROM `+schema+`.flat WHERE workspace = $1 ORDER BY embedding <=> $2 LIMIT 10`)
	}

	partialBuild := build(fmt.Sprintf(`CREATE INDEX flat_hnsw_target ON `+schema+`.flat USING hnsw (embedding public.vector_cosine_ops) WHERE workspace = %d`, target))
	measure("partial", hnsw, fmt.Sprintf(`SELECT id FROM `+schema+`.flat WHERE workspace = %d AND workspace = $1 ORDER BY embedding <=> $2 LIMIT 10`, target))

	start = time.Now()
	for w := range n {
		exec(fmt.Sprintf(`CREATE TABLE `+schema+`.part_%d PARTITION OF `+schema+`.part FOR VALUES IN (%d)`, w, w))
	}
	exec(`INSERT INTO ` + schema + `.part SELECT * FROM ` + schema + `.flat`)
	partLoad := time.Since(start)
	partBuild := build(`CREATE INDEX part_hnsw ON ` + schema + `.part USING hnsw (embedding public.vector_cosine_ops)`)
	exec(`VACUUM ANALYZE ` + schema + `.part`)
	measure("partitioned", hnsw, `SELECT id FROM `+schema+`.part WHERE workspace = $1 ORDER BY embedding <=> $2 LIMIT 10`)
	t.Logf("%d workspaces x %d chunks (%d dims): COPY %.1f s; HNSW builds: shared %.1f s, the measured workspace's partial %.1f s, %d partitions (load %.1f s, indexes %.1f s)",
		n, cfg.chunks, cfg.dims, load.Seconds(), sharedBuild.Seconds(), partialBuild.Seconds(), n, partLoad.Seconds(), partBuild.Seconds())

}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// runLayout runs 50 queries to warm up, then every query timed, runs
// times, each after its settings in one batch (one round trip, one
// implicit transaction, as Search sends them); it returns the ids found,
// each run's latencies and the plan's scans.
func runLayout(ctx context.Context, t *testing.T, pool *pgxpool.Pool, settings, sql string, workspace int, queries [][]float32, runs int) ([][]int64, [][]time.Duration, string) {
	t.Helper()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	run := func(q []float32) []int64 {
		var b pgx.Batch
		b.Queue(settings)
		b.Queue(sql, workspace, pgvector.NewVector(q))
		br := conn.SendBatch(ctx, &b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			t.Fatal(err)
		}
		rows, err := br.Query()
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for _, q := range queries[:min(50, len(queries))] {
		run(q)
	}
	var (
		out [][]int64
		lat [][]time.Duration
	)
	for r := range runs {
		var l []time.Duration
		for _, q := range queries {
			start := time.Now()
			ids := run(q)
			l = append(l, time.Since(start))
			if r == 0 {
				out = append(out, ids)
			}
		}
		lat = append(lat, l)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, settings); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, workspace, pgvector.NewVector(queries[0]))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := ""
	for _, l := range lines {
		if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "->")); strings.Contains(l, "Scan") {
			plan += strings.TrimSpace(l) + "; "
		}
	}
	return out, lat, strings.TrimSuffix(plan, "; ")
}
