package ingest_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/internal/faqgen"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// TestHNSWBuildVariants compares ways to build a large workspace's HNSW
// index, at each size in PARLEY_SCALE_HNSW (entries, two chunks each): the
// build's backend CPU per vector (serial, in memory), and recall@10 of 200
// questions against exact search, searched as VectorSearch does
// (ef_search 20, iterative scan), with the search's backend CPU. The
// questions are loaded ones with their first word dropped: near the
// knowledge, as a visitor's are. Variants: the index as built now (m 12,
// ef_construction 64), ef_construction 40, the vectors as halfvec, and the
// vectors split into 4 segments (partial indexes on id % 4) searched
// together.
//
//	PARLEY_SCALE_HNSW=10000,30000 nice -n 10 go test -run TestHNSWBuildVariants -v -timeout 120m ./ingest/
func TestHNSWBuildVariants(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_HNSW")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_HNSW to the sizes to load")
	}
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	dims := embedder.Dimensions()
	chunker := ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{})
	ns, err := faqgen.Sizes(sizes, 1)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_HNSW: %v", err)
	}
	variants := []struct {
		name, typ, with string
		segments        int
	}{
		{"now: m 12, ef_construction 64", "vector", "m = 12, ef_construction = 64", 1},
		{"ef_construction 40", "vector", "m = 12, ef_construction = 40", 1},
		{"halfvec", "halfvec", "m = 12, ef_construction = 64", 1},
		{"4 segments", "vector", "m = 12, ef_construction = 64", 4},
	}
	for _, n := range ns {
		db := pgtest.FreshDB(t, 1)
		ws, kb := benchKB(t, db)
		entries := faqgen.Generate(n, 45, 1)
		pipe := ingest.NewPipeline(unindexed{db}, embedder, chunker)
		if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: faqDocs(entries)}); err != nil {
			t.Fatal(err)
		}
		queries := nearQuestions(t, embedder, entries)
		ids := func(sql string, q []float32) []int64 {
			t.Helper()
			rows, err := db.Pool().Query(ctx, sql, pgvector.NewVector(q))
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		exact := make([][]int64, len(queries))
		for i, q := range queries {
			exact[i] = ids(`SELECT id FROM chunks ORDER BY embedding <=> $1 LIMIT 10`, q)
		}
		exec := func(sql string) {
			t.Helper()
			if _, err := db.Pool().Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		exec(`SET maintenance_work_mem = '3GB'`)
		exec(`SET max_parallel_maintenance_workers = 0`)
		exec(`SET hnsw.ef_search = 20`)
		exec(`SET enable_sort = off`) // as VectorSearch: the index, not a sorted scan
		for _, v := range variants {
			distance := fmt.Sprintf("embedding::public.%s(%d) <=> $1::public.%s(%d)", v.typ, dims, v.typ, dims)
			var parts []string
			stop := startTiming(t, db)
			for s := range v.segments {
				where, part := "", fmt.Sprintf("SELECT id, %s AS d FROM chunks ORDER BY 2 LIMIT 10", distance)
				if v.segments > 1 {
					where = fmt.Sprintf("WHERE id %% %d = %d", v.segments, s)
					part = fmt.Sprintf("(SELECT id, %s AS d FROM chunks %s ORDER BY 2 LIMIT 10)", distance, where)
				}
				exec(fmt.Sprintf(`CREATE INDEX variant_%d ON chunks USING hnsw ((embedding::public.%s(%d)) public.%s_cosine_ops) WITH (%s) %s`,
					s, v.typ, dims, v.typ, v.with, where))
				parts = append(parts, part)
			}
			build := stop()
			search := fmt.Sprintf("SELECT id FROM (%s) p ORDER BY d LIMIT 10", strings.Join(parts, " UNION ALL "))
			found := 0
			stop = startTiming(t, db)
			for i, q := range queries {
				for _, id := range ids(search, q) {
					for _, e := range exact[i] {
						if id == e {
							found++
						}
					}
				}
			}
			searched := stop()
			chunks := 2 * n
			t.Logf("%d entries (%d vectors), %s: build %s, %.3f ms db CPU a vector; recall@10 %.3f; search db CPU %.2f ms a question (load average %s)",
				n, chunks, v.name, build, float64(build.db.Microseconds())/1000/float64(chunks),
				float64(found)/float64(10*len(queries)), float64(searched.db.Microseconds())/1000/float64(len(queries)), loadAverage())
			for s := range v.segments {
				exec(fmt.Sprintf(`DROP INDEX variant_%d`, s))
			}
		}
	}
}

// TestHNSWRecallAtSize measures what a large workspace's own HNSW index
// finds, at each size in PARLEY_SCALE_RECALL (entries, two chunks each):
// the knowledge is loaded as a large load (its index built as the store
// builds it), then 200 questions near it (loaded questions without their
// first word) are searched with the answer path's statement (LIMIT 20, no
// sort, no iterative scan) at each hnsw.ef_search in PARLEY_SCALE_EF
// (default 20,30,40,60,80), and through VectorSearch itself; recall@10
// against exact search, and the search's backend CPU a question.
//
//	PARLEY_SCALE_RECALL=50000,150000 nice -n 10 go test -run TestHNSWRecallAtSize -v -timeout 120m ./ingest/
func TestHNSWRecallAtSize(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_RECALL")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_RECALL to the sizes to load")
	}
	efs := cmp.Or(os.Getenv("PARLEY_SCALE_EF"), "20,30,40,60,80")
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	chunker := ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{})
	ns, err := faqgen.Sizes(sizes, 1)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_RECALL: %v", err)
	}
	for _, n := range ns {
		db := pgtest.FreshDB(t, 1)
		if err := db.EnsureVectorIndex(ctx, embedder.Model(), embedder.Dimensions()); err != nil {
			t.Fatal(err)
		}
		ws, kb := benchKB(t, db)
		entries := faqgen.Generate(n, 45, 1)
		stop := startTiming(t, db)
		if _, err := ingest.NewPipeline(db, embedder, chunker).Run(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: faqDocs(entries)}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d entries (%d vectors) loaded, index built with the server's parallel workers: %s (load average %s)", n, 2*n, stop(), loadAverage())
		queries := nearQuestions(t, embedder, entries)
		var generation int64
		if err := db.Pool().QueryRow(ctx, `SELECT generation FROM vector_indexes WHERE workspace_id = $1`, ws.ID).Scan(&generation); err != nil {
			t.Fatalf("the load built no index of the workspace's own: %v", err)
		}
		ids := func(settings, sql string, q []float32) []int64 {
			t.Helper()
			b := &pgx.Batch{}
			b.Queue(`SELECT ` + settings)
			b.Queue(sql, ws.ID, pgvector.NewVector(q))
			br := db.Pool().SendBatch(ctx, b)
			defer br.Close()
			if _, err := br.Exec(); err != nil {
				t.Fatal(err)
			}
			rows, err := br.Query()
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				t.Fatal(err)
			}
			return out[:min(10, len(out))]
		}
		recall := func(exact [][]int64, found func(i int) []int64) float64 {
			hits := 0
			for i := range exact {
				for _, id := range found(i) {
					if slices.Contains(exact[i], id) {
						hits++
					}
				}
			}
			return float64(hits) / float64(10*len(exact))
		}
		exact := make([][]int64, len(queries))
		for i, q := range queries {
			exact[i] = ids(`set_config('enable_indexscan', 'off', true)`,
				`SELECT id FROM chunks WHERE workspace_id = $1 ORDER BY embedding <=> $2 LIMIT 10`, q)
		}
		dims := embedder.Dimensions()
		search := fmt.Sprintf(`SELECT c.id FROM chunks c WHERE c.embed_model = '%s' AND c.vector_index = %d AND c.workspace_id = $1
			ORDER BY c.embedding::public.vector(%d) <=> $2::public.vector(%d) LIMIT 20`, embedder.Model(), generation, dims, dims)
		for _, f := range strings.Split(efs, ",") {
			ef, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("PARLEY_SCALE_EF: %v", err)
			}
			settings := fmt.Sprintf(`set_config('enable_sort', 'off', true), set_config('hnsw.ef_search', '%d', true),
				set_config('hnsw.iterative_scan', 'off', true)`, ef)
			stop := startTiming(t, db)
			r := recall(exact, func(i int) []int64 { return ids(settings, search, queries[i]) })
			m := stop()
			t.Logf("%d vectors, ef_search %d: recall@10 %.3f, search db CPU %.2f ms a question (load average %s)",
				2*n, ef, r, float64(m.db.Microseconds())/1000/float64(len(queries)), loadAverage())
		}
		stop = startTiming(t, db)
		r := recall(exact, func(i int) []int64 {
			hits, err := db.VectorSearch(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: embedder.Model(), Vector: queries[i], Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, h := range hits[:min(10, len(hits))] {
				out = append(out, h.ChunkID)
			}
			return out
		})
		m := stop()
		t.Logf("%d vectors, VectorSearch as it is: recall@10 %.3f, db CPU %.2f ms a question", 2*n, r,
			float64(m.db.Microseconds())/1000/float64(len(queries)))
	}
}

// nearQuestions embeds 200 questions near the knowledge of entries:
// loaded questions, spread over them, without their first word.
func nearQuestions(t *testing.T, embedder *retrieval.Local, entries []faqgen.Entry) [][]float32 {
	t.Helper()
	var texts []string
	for i := range 200 {
		_, rest, _ := strings.Cut(entries[i*len(entries)/200].Question, " ")
		texts = append(texts, rest)
	}
	queries, err := embedder.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return queries
}
