package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley"
)

// EnsureVectorIndex creates, if missing, the HNSW index for vectors of one
// embedding model shared by all workspaces: an expression index on
// embedding::vector(dims) with the model and vector_index = 0 as partial
// predicate (rows of workspaces with an index of their own are left out:
// see Ingest). Queries must use the same cast and predicate.
//
// It is built with m = 12 (pgvector's default is 16). Maintaining the index
// is nearly all the cost of an ingest, and an insert updates up to 2m
// neighbour lists, each loading up to 2m vectors: with Banking77 train
// (10k 1024-dim vectors into an empty index) m = 12 takes 7.8-8.4 s of
// backend CPU against 11.2-11.7 s for m = 16, for a recall@10 of 0.986-0.989
// against 0.991 and a top-1 intent accuracy of 0.873 against 0.875 (exact
// search: 0.879); see BENCHMARKS.md. An index that exists keeps the
// parameters it was built with; drop it (the next ingest builds it again)
// to change them.
//
// It looks in the catalog first: CREATE INDEX IF NOT EXISTS takes a SHARE
// lock on chunks even when the index exists, so it would wait for every
// ingest in progress (in any workspace) and hold up every write queued
// behind it.
func (db *DB) EnsureVectorIndex(ctx context.Context, model string, dims int) error {
	if dims < 1 || dims > 2000 {
		return parley.Errorf(parley.EInvalid, "embedding dimensions must be 1-2000 for an HNSW index, got %d", dims)
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indrelid = 'chunks'::regclass AND i.relname = $1)`, vectorIndexName(model, dims)).Scan(&exists); err != nil {
		return fmt.Errorf("look up vector index for model %s: %w", model, err)
	}
	if exists {
		return nil
	}
	sql := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON chunks
		USING hnsw ((embedding::public.vector(%d)) public.vector_cosine_ops) WITH (m = 12, ef_construction = 64)
		WHERE embed_model = %s AND vector_index = 0`, vectorIndexName(model, dims), dims, quoteLiteral(model))
	// Concurrent CREATE INDEX IF NOT EXISTS of one name can still collide
	// on the catalog; a transaction-scoped advisory lock serialises them.
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('parley.vector_index.' || current_schema()))`); err != nil {
			return fmt.Errorf("lock vector index creation: %w", err)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create vector index for model %s: %w", model, err)
		}
		return nil
	})
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

func vectorIndexName(model string, dims int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", model, dims)))
	slug := nonIdent.ReplaceAllString(strings.ToLower(model), "_")
	if len(slug) > 30 {
		slug = slug[:30]
	}
	return fmt.Sprintf("chunks_hnsw_%s_%s", slug, hex.EncodeToString(h[:4]))
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SourceHashes returns external id → content hash of every source in a
// knowledge base, so an ingest can skip what is unchanged.
func (db *DB) SourceHashes(ctx context.Context, workspaceID, kbID string) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT external_id, content_hash FROM sources
		WHERE workspace_id = $1 AND kb_id = $2`, workspaceID, kbID)
	if err != nil {
		return nil, fmt.Errorf("read source hashes: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("read source hashes: %w", err)
		}
		out[id] = h
	}
	return out, rows.Err()
}

// ingestTx is the parley.SourceWriter of one Ingest call.
type ingestTx struct {
	tx          pgx.Tx
	workspaceID string
	kbID        string
	model       string
	vectorIndex int64 // chunks.vector_index of the rows written
	changed     int   // sources written or pruned
}

// Ingest runs fn with a writer into one knowledge base, for vectors of
// target.Model, in one transaction: committed when fn returns nil, rolled
// back otherwise, so a failed ingest leaves the database as it was.
// Ingests into the same knowledge base run one at a time.
//
// A large load (see bulkLoad) builds an HNSW index of its workspace's
// vectors at the end instead of inserting them one by one into an index
// (see vectorindex.go).
//
// The chunks' word counts (chunk_words) change with them: Write and Prune
// note what they add and delete in word_delta, and the counts are updated
// once, at the end, in one statement that locks their rows in word order.
// So ingests into two knowledge bases of a workspace, which share words,
// wait for each other only there, and never deadlock.
func (db *DB) Ingest(ctx context.Context, target parley.IngestTarget, fn func(parley.SourceWriter) error) error {
	if bulkLoad(target.Chunks) {
		if err := db.dropStaleVectorIndexes(ctx); err != nil {
			return err
		}
	}
	var replaced int64 // the generation a new index replaced, if any
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockKB(ctx, tx, target.KBID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE word_delta (embed_model text, word text, n int) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create word changes table: %w", err)
		}
		w := &ingestTx{tx: tx, workspaceID: target.WorkspaceID, kbID: target.KBID, model: target.Model}
		plan, err := planVectors(ctx, tx, target)
		if err != nil {
			return err
		}
		w.vectorIndex = plan.generation
		if err := fn(w); err != nil {
			return err
		}
		if err := countWords(ctx, tx, `WITH delta AS (SELECT embed_model, word, n FROM word_delta)`, target.WorkspaceID); err != nil {
			return err
		}
		if plan.build {
			if err := buildVectorIndex(ctx, tx, target, plan.generation); err != nil {
				return err
			}
			replaced = plan.replaces
		}
		return refreshStats(ctx, tx, w.changed)
	})
	db.expireChunkStats(target.WorkspaceID)
	if err != nil {
		return err
	}
	if replaced > 0 {
		db.dropVectorIndex(ctx, replaced)
	}
	return nil
}

// lockKB takes the knowledge base's ingest lock for the transaction: what
// writes or deletes its chunks runs one at a time, so that the chunks a
// statement deletes are those it counted out of chunk_words.
func lockKB(ctx context.Context, tx pgx.Tx, kbID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('parley.ingest.' || $1))`, kbID); err != nil {
		return fmt.Errorf("lock knowledge base: %w", err)
	}
	return nil
}

// countWords adds the changes that the CTEs of with give in their last
// one, delta (embed_model, word, n: n chunks more or, when negative,
// fewer), to the word counts of workspace $1, locking their rows in word
// order, then deletes the counts that fell to 0. args are with's.
func countWords(ctx context.Context, tx pgx.Tx, with string, args ...any) error {
	if _, err := tx.Exec(ctx, with+`
		INSERT INTO chunk_words AS cw (workspace_id, embed_model, word, chunks)
		SELECT $1, embed_model, word, sum(n) FROM delta
		GROUP BY embed_model, word HAVING sum(n) <> 0 ORDER BY embed_model, word
		ON CONFLICT (workspace_id, embed_model, word) DO UPDATE SET chunks = cw.chunks + EXCLUDED.chunks`, args...); err != nil {
		return fmt.Errorf("count the chunks' words: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM chunk_words WHERE workspace_id = $1 AND chunks <= 0`, args[0]); err != nil {
		return fmt.Errorf("delete words no chunk has: %w", err)
	}
	return nil
}

// deletedWordsSQL is a CTE delta of the words of the chunks a CTE gone
// returned (embed_model, tsv) as deleted, for countWords.
const deletedWordsSQL = `, delta AS (
		SELECT g.embed_model, w.word, -count(*) AS n FROM gone g, unnest(tsvector_to_array(g.tsv)) w(word)
		GROUP BY 1, 2
	)`

// refreshStats tidies the knowledge tables for search, in the ingest's
// transaction, when it changed more than 50 sources plus a tenth of them
// (autovacuum's default rule): it merges the full-text index's pending
// list, where a bulk load leaves its entries (GIN's fast update) and which
// every search would otherwise read through, and updates the planner's
// statistics. Autovacuum does both in time; until it does, or where it is
// off, the search of a freshly loaded workspace was five times slower, or
// full-text search scanned the whole table (BENCHMARKS.md).
func refreshStats(ctx context.Context, tx pgx.Tx, changed int) error {
	var sources float64 // -1 when never analyzed
	if err := tx.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'sources'::regclass`).Scan(&sources); err != nil {
		return fmt.Errorf("read knowledge table statistics: %w", err)
	}
	if float64(changed) <= 50+0.1*max(sources, 0) {
		return nil
	}
	// ANALYZE would wait for an index build's lock on chunks, which waits
	// for this transaction (see vectorbuild.go): while one runs, leave it
	// to autovacuum. Held until the commit, the lock keeps builds from
	// starting meanwhile (it is this load's own when it builds one).
	var free bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock_shared(`+buildLockKey+`)`).Scan(&free); err != nil {
		return fmt.Errorf("check for index builds: %w", err)
	}
	if !free {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT gin_clean_pending_list('chunks_tsv'::regclass)`); err != nil {
		return fmt.Errorf("merge the full-text index's pending entries: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE sources, chunks`); err != nil {
		return fmt.Errorf("analyze knowledge tables: %w", err)
	}
	return nil
}

// Write upserts the sources and replaces their chunks. Sources are matched
// by external id within the knowledge base.
func (t *ingestTx) Write(ctx context.Context, batch []parley.SourceChunks) error {
	if len(batch) == 0 {
		return nil
	}
	ids, err := t.upsertSources(ctx, batch)
	if err != nil {
		return err
	}
	t.changed += len(batch)
	if _, err := t.tx.Exec(ctx, `WITH gone AS (DELETE FROM chunks WHERE source_id = ANY($1) RETURNING embed_model, tsv)`+
		deletedWordsSQL+` INSERT INTO word_delta SELECT embed_model, word, n FROM delta`, ids); err != nil {
		return fmt.Errorf("delete replaced chunks: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS chunk_stage (
		source_id bigint, ordinal int, text text, answer text, section_path text, tokens int,
		group_key text, ts_config text, embedding public.vector) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create chunk stage: %w", err)
	}
	var rows [][]any
	for i, s := range batch {
		cfg := textSearchConfig(s.Language)
		for _, c := range s.Chunks {
			rows = append(rows, []any{ids[i], c.Ordinal, c.Text, c.Answer, c.SectionPath, c.Tokens,
				s.GroupKey(c), cfg, pgvector.NewVector(c.Embedding)})
		}
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"chunk_stage"},
		[]string{"source_id", "ordinal", "text", "answer", "section_path", "tokens", "group_key", "ts_config", "embedding"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy chunks: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `
		WITH added AS (
			INSERT INTO chunks (workspace_id, source_id, ordinal, text, answer, section_path, tokens,
				group_key, embed_model, embedding, tsv, vector_index)
			SELECT $1, source_id, ordinal, text, answer, section_path, tokens, group_key, $2, embedding,
				to_tsvector(ts_config::regconfig, text), $3
			FROM chunk_stage
			RETURNING tsv
		)
		INSERT INTO word_delta SELECT $2, w.word, count(*) FROM added a, unnest(tsvector_to_array(a.tsv)) w(word) GROUP BY 2`,
		t.workspaceID, t.model, t.vectorIndex); err != nil {
		return fmt.Errorf("insert chunks: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `TRUNCATE chunk_stage`); err != nil {
		return fmt.Errorf("clear chunk stage: %w", err)
	}
	return nil
}

// upsertSources inserts or updates the batch's sources and returns their
// ids in batch order.
func (t *ingestTx) upsertSources(ctx context.Context, batch []parley.SourceChunks) ([]int64, error) {
	var (
		kinds, extIDs, titles, urls, langs, intents, tags, hashes []string
		counts                                                    []int32
	)
	for _, s := range batch {
		kinds = append(kinds, s.Kind)
		extIDs = append(extIDs, s.ExternalID)
		titles = append(titles, s.Title)
		urls = append(urls, s.URL)
		langs = append(langs, s.Language)
		intents = append(intents, s.Intent)
		tags = append(tags, strings.Join(s.Tags, "\x1f"))
		hashes = append(hashes, s.ContentHash)
		counts = append(counts, int32(len(s.Chunks)))
	}
	rows, err := t.tx.Query(ctx, `
		INSERT INTO sources (workspace_id, kb_id, kind, external_id, title, url, language, intent, tags, content_hash, chunk_count)
		SELECT $1, $2, u.kind, u.ext, u.title, u.url, u.lang, u.intent,
			CASE WHEN u.tags = '' THEN '{}'::text[] ELSE string_to_array(u.tags, E'\x1f') END, u.hash, u.n
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[])
			WITH ORDINALITY AS u(kind, ext, title, url, lang, intent, tags, hash, n, ord)
		ORDER BY u.ord
		ON CONFLICT (kb_id, external_id) DO UPDATE SET
			kind = EXCLUDED.kind, title = EXCLUDED.title, url = EXCLUDED.url, language = EXCLUDED.language,
			intent = EXCLUDED.intent, tags = EXCLUDED.tags, content_hash = EXCLUDED.content_hash,
			chunk_count = EXCLUDED.chunk_count, updated_at = now()
		RETURNING id, external_id`,
		t.workspaceID, t.kbID, kinds, extIDs, titles, urls, langs, intents, tags, hashes, counts)
	if err != nil {
		return nil, translate(fmt.Errorf("upsert sources: %w", err), "source")
	}
	byExt := make(map[string]int64, len(batch))
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			rows.Close()
			return nil, fmt.Errorf("upsert sources: %w", err)
		}
		byExt[ext] = id
	}
	if err := rows.Err(); err != nil {
		return nil, translate(fmt.Errorf("upsert sources: %w", err), "source")
	}
	ids := make([]int64, len(batch))
	for i, s := range batch {
		ids[i] = byExt[s.ExternalID]
	}
	return ids, nil
}

// Prune deletes the knowledge base's sources whose external ids are not in
// keep, and returns how many it deleted.
func (t *ingestTx) Prune(ctx context.Context, keep []string) (int, error) {
	if _, err := t.tx.Exec(ctx, `WITH gone AS (
			DELETE FROM chunks c USING sources s
			WHERE s.id = c.source_id AND s.workspace_id = $1 AND s.kb_id = $2 AND NOT (s.external_id = ANY($3))
			RETURNING c.embed_model, c.tsv
		)`+deletedWordsSQL+` INSERT INTO word_delta SELECT embed_model, word, n FROM delta`,
		t.workspaceID, t.kbID, keep); err != nil {
		return 0, fmt.Errorf("prune chunks: %w", err)
	}
	tag, err := t.tx.Exec(ctx, `DELETE FROM sources WHERE workspace_id = $1 AND kb_id = $2
		AND NOT (external_id = ANY($3))`, t.workspaceID, t.kbID, keep)
	if err != nil {
		return 0, fmt.Errorf("prune sources: %w", err)
	}
	t.changed += int(tag.RowsAffected())
	return int(tag.RowsAffected()), nil
}

// textSearchConfig picks PostgreSQL's full-text configuration for a
// language; unknown or missing languages use 'simple'.
func textSearchConfig(lang string) string {
	if cfg, ok := tsConfigs[strings.ToLower(lang)]; ok {
		return cfg
	}
	return "simple"
}

// textSearchConfigs returns the full-text configurations of languages,
// each once. Languages PostgreSQL has no configuration for are left out
// ('simple' keeps every word, function words included) unless none has
// one.
func textSearchConfigs(languages []string) []string {
	var out []string
	for _, l := range languages {
		if cfg := textSearchConfig(l); cfg != "simple" && !slices.Contains(out, cfg) {
			out = append(out, cfg)
		}
	}
	if len(out) == 0 {
		out = append(out, "simple")
	}
	return out
}

var tsConfigs = map[string]string{
	"ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
	"fi": "finnish", "fr": "french", "hu": "hungarian", "id": "indonesian", "it": "italian",
	"lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese",
	"ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}
