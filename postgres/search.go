package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley"
)

// Search runs the vector and the full-text retrievers of one workspace in
// one statement and returns the union of their hits with each one's rank.
//
// The vector side uses the model's HNSW index (same cast and predicate as
// EnsureVectorIndex); the workspace filter applies after the index scan, and
// the iterative scan set on every connection keeps it from starving results.
// The full-text side ORs the question's words, stemmed with the question's
// language and unstemmed, so chunks indexed either way match.
func (db *DB) Search(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error) {
	dims := len(q.Vector)
	if dims == 0 || dims > 2000 {
		return nil, fmt.Errorf("search: vector has %d dimensions", dims)
	}
	sql := fmt.Sprintf(`
		WITH v AS (
			SELECT id, 1 - (embedding::public.vector(%[1]d) <=> $3::public.vector(%[1]d)) AS sim
			FROM chunks
			WHERE embed_model = $2 AND workspace_id = $1
			ORDER BY embedding::public.vector(%[1]d) <=> $3::public.vector(%[1]d)
			LIMIT $6
		), vr AS (
			SELECT id, sim, row_number() OVER (ORDER BY sim DESC) AS rank FROM v
		), q AS (
			SELECT (coalesce(nullif(replace(plainto_tsquery($5::regconfig, $4)::text, '&', '|'), ''), '''''')::tsquery
				|| coalesce(nullif(replace(plainto_tsquery('simple', $4)::text, '&', '|'), ''), '''''')::tsquery) AS tsq
		), t AS (
			SELECT c.id, ts_rank_cd(c.tsv, q.tsq) AS score
			FROM chunks c, q
			WHERE c.workspace_id = $1 AND c.embed_model = $2 AND c.tsv @@ q.tsq
			ORDER BY score DESC
			LIMIT $6
		), tr AS (
			SELECT id, score, row_number() OVER (ORDER BY score DESC) AS rank FROM t
		)
		SELECT c.id, s.id, s.kind, s.external_id, s.title, s.url, s.intent, s.tags, c.group_key,
			c.text, c.answer, c.section_path,
			coalesce(vr.sim, 1 - (c.embedding::public.vector(%[1]d) <=> $3::public.vector(%[1]d))),
			coalesce(vr.rank, 0), coalesce(tr.score, 0), coalesce(tr.rank, 0)
		FROM vr FULL JOIN tr USING (id)
		JOIN chunks c ON c.id = coalesce(vr.id, tr.id)
		JOIN sources s ON s.id = c.source_id
		ORDER BY 13 DESC`, dims)
	rows, err := db.pool.Query(ctx, sql, q.WorkspaceID, q.Model, pgvector.NewVector(q.Vector),
		q.Text, textSearchConfig(q.Language), q.Limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	hits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Hit, error) {
		var h parley.Hit
		err := r.Scan(&h.ChunkID, &h.SourceID, &h.Kind, &h.ExternalID, &h.Title, &h.URL, &h.Intent, &h.Tags,
			&h.GroupKey, &h.Text, &h.Answer, &h.SectionPath, &h.Similarity, &h.VectorRank, &h.TextScore, &h.TextRank)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}
