package ingest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

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
		var texts []string
		for i := range 200 {
			_, rest, _ := strings.Cut(entries[i*n/200].Question, " ")
			texts = append(texts, rest)
		}
		queries, err := embedder.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
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
