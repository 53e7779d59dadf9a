package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
	"golang.org/x/sync/errgroup"

	"github.com/parleyhq/parley"
)

// exactSearchMax is the number of a workspace's chunks (of one model) up to
// which vector search is exact: cheap at that size, and exact where a small
// workspace's rows are too sparse in the shared HNSW graph to be found
// quickly. Above it the HNSW index is used.
const exactSearchMax = 2000

// Search runs the vector and the full-text retrievers of one workspace
// concurrently and returns the union of their hits with each one's rank.
func (db *DB) Search(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error) {
	dims := len(q.Vector)
	if dims == 0 || dims > 2000 {
		return nil, fmt.Errorf("search: vector has %d dimensions", dims)
	}
	var vec, txt []parley.Hit
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		vec, err = db.VectorSearch(gctx, q)
		return err
	})
	g.Go(func() (err error) {
		txt, err = db.TextSearch(gctx, q)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return mergeHits(vec, txt), nil
}

const hitColumns = `c.id, s.id, s.kind, s.external_id, s.title, s.url, s.intent, s.tags, c.group_key,
	c.text, c.answer, c.section_path`

// scanHit scans a row of hitColumns and a score, which goes to the field
// score returns.
func scanHit(score func(*parley.Hit) *float64) pgx.RowToFunc[parley.Hit] {
	return func(r pgx.CollectableRow) (parley.Hit, error) {
		var h parley.Hit
		err := r.Scan(&h.ChunkID, &h.SourceID, &h.Kind, &h.ExternalID, &h.Title, &h.URL, &h.Intent, &h.Tags,
			&h.GroupKey, &h.Text, &h.Answer, &h.SectionPath, score(&h))
		return h, err
	}
}

// genericPlan makes a search statement run its generic plan. Their best
// plans do not depend on the parameters' values, but the planner could not
// tell and planned every call anew: 0.2 ms of CPU per statement.
const genericPlan = `set_config('plan_cache_mode', 'force_generic_plan', true)`

// efSearch is hnsw.ef_search for the answer path's vector search of a
// workspace with n vectors: 20 (pgvector's default is 40) up to 50,000,
// then n/2,500, at most 400. A graph's recall at a given ef_search falls
// as it grows: on a workspace's own index of generated FAQ knowledge
// (local embedder), recall@10 against exact search at ef_search 20 was
// 0.959 at 100,000 vectors and 0.876 at 300,000, where 120 gives 0.960
// for about 2.7 times the scan's CPU (BENCHMARKS.md, "Recall at size").
// Beyond 300,000 vectors (ef_search 120) it was not measured.
func efSearch(n int) int { return min(max(20, n/2500), 400) }

// VectorSearch is Search's vector leg alone: the nearest chunks by cosine
// distance.
//
// Large workspaces go through the model's HNSW index (same cast and
// predicate as EnsureVectorIndex; the model is a literal so the generic
// plan still matches the partial index). The workspace filter applies after
// the index scan: the iterative scan set on every connection keeps it from
// starving results, and enable_sort = off for this statement keeps the
// planner from preferring a filtered exact scan, which its estimates favour
// but which is ten times slower at 10,000 rows. ef_search is 20 (pgvector's
// default is 40) for LIMIT 20 up to 50,000 vectors, more above (efSearch):
// the iterative scan goes on if the filter leaves too few rows; Banking77
// quality is the same either way (BENCHMARKS.md), and the scan costs 40%
// less.
func (db *DB) VectorSearch(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error) {
	st, err := db.chunkStats(ctx, q.WorkspaceID, q.Model)
	if err != nil {
		return nil, err
	}
	hits, err := db.vectorQuery(ctx, q, st)
	if err == nil && len(hits) == 0 && st.n > 0 {
		// A large load may have moved the workspace's rows to an index of
		// its own since st was read (see vectorindex.go): search again
		// with the generation as it is now.
		db.counts.Delete(q.WorkspaceID + "/" + q.Model)
		var now chunkStats
		if now, err = db.chunkStats(ctx, q.WorkspaceID, q.Model); err == nil && now.vectorIndex != st.vectorIndex {
			hits, err = db.vectorQuery(ctx, q, now)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	for i := range hits {
		hits[i].VectorRank = i + 1
		hits[i].Similarity = 1 - hits[i].Similarity // vectorQuery returns the distance
	}
	return hits, nil
}

// vectorQuery runs the vector search of q with the workspace's statistics
// st: exact, or through the HNSW index that holds the workspace's rows
// (its generation is a literal so that the generic plan matches the
// index's predicate). Each hit's Similarity holds its cosine distance: the
// statement returns its ORDER BY expression itself, which PostgreSQL then
// computes once a row; selecting 1 - distance computed it twice, and each
// time read the vector again from TOAST (11% of the scan's buffer reads
// on Banking77, BENCHMARKS.md).
func (db *DB) vectorQuery(ctx context.Context, q parley.SearchQuery, st chunkStats) ([]parley.Hit, error) {
	dims := len(q.Vector)
	distance := "c.embedding <=> $2"
	if st.n > exactSearchMax {
		distance = fmt.Sprintf("c.embedding::public.vector(%d) <=> $2::public.vector(%d)", dims, dims)
	}
	sql := fmt.Sprintf(`SELECT %s, %s FROM chunks c JOIN sources s ON s.id = c.source_id
		WHERE c.embed_model = %s AND c.vector_index = %d AND c.workspace_id = $1
		ORDER BY %s LIMIT $3`, hitColumns, distance, quoteLiteral(q.Model), st.vectorIndex, distance)
	settings := genericPlan
	if st.n > exactSearchMax {
		ef := efSearch(st.n)
		settings += fmt.Sprintf(`, set_config('enable_sort', 'off', true), set_config('hnsw.ef_search', '%d', true)`, ef)
		if st.vectorIndex > 0 && q.Limit <= ef {
			// The workspace's own index holds its rows alone: the filter
			// never drops one, and one pass finds ef_search rows, so the
			// iterative scan would only add its bookkeeping (about 30% of
			// the scan's CPU on Banking77, the same hits).
			settings += `, set_config('hnsw.iterative_scan', 'off', true)`
		}
	}
	return db.queryHits(ctx, settings, sql, []any{q.WorkspaceID, pgvector.NewVector(q.Vector), q.Limit},
		scanHit(func(h *parley.Hit) *float64 { return &h.Similarity }))
}

// TextSearch is Search's keyword leg alone: the chunks sharing any word of
// the question with it, best first by a BM25 score (ties by id, so results
// are the same run to run). The question is read in each of its languages (stemmed, that
// language's stop words dropped), and any of the words left may match: a
// paraphrase shares some words with its answer, seldom all. Each word
// found counts by its rarity in the workspace's chunks (inverse document
// frequency), so a distinctive word outweighs several common ones; long
// chunks count less. Words too common to tell answers apart (see
// commonWordChunks) are left out, which keeps the search cheap in large
// workspaces. A word's number of chunks is read from chunk_words, kept
// exact by every write of chunks (see Ingest): one primary key lookup a
// word, once (a subquery in a materialized CTE, so that no plan reads all
// the workspace's words or looks a word up again for each chunk); the GIN
// index finds the chunks of the words kept.
func (db *DB) TextSearch(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error) {
	st, err := db.chunkStats(ctx, q.WorkspaceID, q.Model)
	if err != nil {
		return nil, err
	}
	if st.n == 0 {
		return nil, nil
	}
	hits, err := db.queryHits(ctx, genericPlan, `WITH words AS MATERIALIZED (
			SELECT w.word, (SELECT cw.chunks FROM chunk_words cw
				WHERE cw.workspace_id = $1 AND cw.embed_model = $4 AND cw.word = w.word) AS df
			FROM (SELECT DISTINCT w.word
				FROM unnest($3::text[]) cfg, unnest(tsvector_to_array(to_tsvector(cfg::regconfig, $2))) w(word)) w
		), weighted AS (
			SELECT quote_literal(word)::tsquery AS query, ln(1 + ($6::float8 - df + 0.5) / (df + 0.5)) AS idf
			FROM words WHERE df < $8
		), ranked AS (
			SELECT c.id, sum(w.idf) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * length(c.tsv) / $7::float8)) AS score
			FROM weighted w JOIN chunks c ON c.workspace_id = $1 AND c.embed_model = $4 AND c.tsv @@ w.query
			GROUP BY c.id
			ORDER BY 2 DESC, c.id LIMIT $5
		)
		SELECT `+hitColumns+`, r.score FROM ranked r JOIN chunks c ON c.id = r.id JOIN sources s ON s.id = c.source_id
		ORDER BY r.score DESC, c.id`,
		[]any{q.WorkspaceID, q.Text, textSearchConfigs(q.Languages), q.Model, q.Limit, st.n, st.avgLen, commonWordChunks(st.n)},
		scanHit(func(h *parley.Hit) *float64 { return &h.TextScore }))
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	for i := range hits {
		hits[i].TextRank = i + 1
	}
	return hits, nil
}

// commonWordChunks is the number of a workspace's n chunks from which on a
// word is too common to search for: a fiftieth of them, and at least 50.
func commonWordChunks(n int) int { return max(n/50, 50) }

// queryHits runs a search statement with settings that hold for it alone
// (see withSettings).
func (db *DB) queryHits(ctx context.Context, settings, sql string, args []any, scan pgx.RowToFunc[parley.Hit]) ([]parley.Hit, error) {
	var hits []parley.Hit
	err := db.withSettings(ctx, settings, sql, args, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err == nil {
			hits, err = pgx.CollectRows(rows, scan)
		}
		return err
	})
	return hits, err
}

// mergeHits unions the two retrievers' hits; a chunk both found keeps both
// ranks. Text-only hits get no similarity (0): the vote then weighs them by
// their text rank alone.
func mergeHits(vec, txt []parley.Hit) []parley.Hit {
	byID := make(map[int64]int, len(vec))
	out := append([]parley.Hit(nil), vec...)
	for i, h := range out {
		byID[h.ChunkID] = i
	}
	for _, h := range txt {
		if i, ok := byID[h.ChunkID]; ok {
			out[i].TextRank, out[i].TextScore = h.TextRank, h.TextScore
			continue
		}
		out = append(out, h)
	}
	return out
}

// chunkStats returns how many chunks of the model a workspace has, their
// average number of distinct words, the vector index that holds them and
// whether any has an answer text, cached for a minute (expired sooner when
// this process changes the workspace's knowledge): they pick the search
// plan and scale the full-text score, where staleness after another
// replica's change is harmless (VectorSearch reads them again when the
// index may have changed). The one bound that shows: a workspace of
// labelled examples only that gets its first answer texts through another
// replica has them looked up by GroupAnswer within the minute.
//
// Expired statistics are read again by one caller at a time: the others
// keep using the old ones meanwhile, and callers with none wait for the
// one read in progress. Counting a large workspace reads all its rows, and
// while a large load is written, the uncommitted ones too (or the whole
// table, on the planner's stale estimates): when every answer of a steady
// 50 a second counted at once, answers took over a minute.
func (db *DB) chunkStats(ctx context.Context, workspaceID, model string) (chunkStats, error) {
	key := workspaceID + "/" + model
	if v, ok := db.counts.Load(key); ok {
		c := v.(*cachedStats)
		if time.Since(c.st.at) < time.Minute || !c.refreshing.CompareAndSwap(false, true) {
			return c.st, nil
		}
		defer c.refreshing.Store(false)
	}
	v, err, _ := db.countsRead.Do(key, func() (any, error) {
		st := chunkStats{at: time.Now()}
		err := db.pool.QueryRow(ctx, `SELECT count(*), coalesce(avg(length(tsv)), 1),
				coalesce((SELECT generation FROM vector_indexes WHERE workspace_id = $1 AND embed_model = $2), 0),
				coalesce(bool_or(answer <> ''), false)
			FROM chunks WHERE workspace_id = $1 AND embed_model = $2`, workspaceID, model).Scan(&st.n, &st.avgLen, &st.vectorIndex, &st.answers)
		if err != nil {
			return chunkStats{}, fmt.Errorf("count chunks: %w", err)
		}
		st.avgLen = max(st.avgLen, 1)
		db.counts.Store(key, &cachedStats{st: st})
		return st, nil
	})
	if err != nil {
		return chunkStats{}, err
	}
	return v.(chunkStats), nil
}

// cachedStats are a workspace's chunkStats as cached, and whether a caller
// is reading them again.
type cachedStats struct {
	st         chunkStats
	refreshing atomic.Bool
}

// expireChunkStats marks the workspace's cached chunkStats, of every
// model, as expired after a change of its knowledge: the next caller reads
// them again (the others meanwhile use them as they were).
func (db *DB) expireChunkStats(workspaceID string) {
	db.counts.Range(func(key, v any) bool {
		if strings.HasPrefix(key.(string), workspaceID+"/") {
			st := v.(*cachedStats).st
			st.at = time.Time{}
			db.counts.Store(key, &cachedStats{st: st})
		}
		return true
	})
}

type chunkStats struct {
	n           int
	avgLen      float64
	vectorIndex int64 // chunks.vector_index of the workspace's rows
	answers     bool  // whether any chunk has an answer text (labelled examples have none)
	at          time.Time
}
