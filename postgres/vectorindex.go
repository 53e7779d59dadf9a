package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley"
)

// Where a workspace's vectors are indexed.
//
// Inserting a vector into an HNSW index costs a search of the graph and
// updates of its neighbours' pages, each logged; building the index from
// the table (CREATE INDEX) does the same work in memory. For 20,000
// generated FAQ chunks the build took a quarter of the CPU of the
// insertions, and the insertions grew slower per row as the index grew
// past shared_buffers (BENCHMARKS.md, "Bulk loads"). The model's index is
// shared by all workspaces, so a load cannot drop and rebuild it: other
// workspaces answer from it meanwhile.
//
// So a large load (bulkLoad) that makes up at least a quarter of its
// workspace's vectors of the model writes its rows with a new generation in
// chunks.vector_index, which no index covers yet, moves the workspace's
// other rows of the model to it, and builds the index of that generation
// (chunks_hnsw_ws_<generation>, predicate vector_index = <generation>)
// before committing. Until the commit every search sees the workspace as it
// was, through the index it had; after it, through the new one. Other
// workspaces' searches and rows are untouched, and so is the shared index
// (its predicate is vector_index = 0). Smaller loads insert into whichever
// index holds their workspace's rows. The workspace's previous index, now
// without live rows, is dropped after the commit.

// bulkLoadChunks is the number of chunks from which a load may build its
// workspace's index instead of inserting into one.
const bulkLoadChunks = 5000

func bulkLoad(chunks int) bool { return chunks >= bulkLoadChunks }

// vectorPlan is where one ingest writes its vectors.
type vectorPlan struct {
	generation int64 // chunks.vector_index of the rows written
	build      bool  // build the index of generation before committing
	replaces   int64 // with build: the workspace's generation before (0: the shared index)
}

// planVectors locks the workspace's vectors and decides where target's
// rows go. Every ingest takes the workspace's lock shared, a large load
// exclusive, so that a workspace's rows are all of one generation. Large
// loads also run one at a time: each ends with CREATE INDEX, which waits
// for a SHARE lock on chunks while holding ROW EXCLUSIVE, so two at once
// would deadlock. Meanwhile other ingests run, until that last step, which
// holds up other writes to chunks (never searches) until the commit.
func planVectors(ctx context.Context, tx pgx.Tx, target parley.IngestTarget) (vectorPlan, error) {
	bulk := bulkLoad(target.Chunks)
	lock := "pg_advisory_xact_lock_shared"
	if bulk {
		lock = "pg_advisory_xact_lock"
		if err := pollLock(ctx, tx, `SELECT pg_try_advisory_xact_lock(`+buildLockKey+`)`); err != nil {
			return vectorPlan{}, fmt.Errorf("wait for other index builds: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT `+lock+`(hashtext('parley.vectors.' || $1))`, target.WorkspaceID); err != nil {
		return vectorPlan{}, fmt.Errorf("lock the workspace's vectors: %w", err)
	}
	var p vectorPlan
	var stored int
	err := tx.QueryRow(ctx, `SELECT
			coalesce((SELECT generation FROM vector_indexes WHERE workspace_id = $1 AND embed_model = $2), 0),
			CASE WHEN $3 THEN (SELECT count(*) FROM chunks WHERE workspace_id = $1 AND embed_model = $2) ELSE 0 END`,
		target.WorkspaceID, target.Model, bulk).Scan(&p.generation, &stored)
	if err != nil {
		return vectorPlan{}, fmt.Errorf("read the workspace's vector index: %w", err)
	}
	if !bulk || 4*target.Chunks < stored+target.Chunks {
		return p, nil
	}
	p.replaces, p.build = p.generation, true
	if err := tx.QueryRow(ctx, `SELECT nextval('vector_index_generation')`).Scan(&p.generation); err != nil {
		return vectorPlan{}, fmt.Errorf("number the workspace's new vector index: %w", err)
	}
	return p, nil
}

// buildVectorIndex moves the workspace's rows of the model to generation,
// records it, and builds its index, with maintenance_work_mem large enough
// for the graph to be built in memory (beyond it pgvector inserts the rest
// one by one, much slower). Parallel workers are the server's
// (max_parallel_maintenance_workers, 2 by default). The build reads the
// whole chunks table, other workspaces' rows included.
func buildVectorIndex(ctx context.Context, tx pgx.Tx, target parley.IngestTarget, generation int64) error {
	if _, err := tx.Exec(ctx, `UPDATE chunks SET vector_index = $3
		WHERE workspace_id = $1 AND embed_model = $2 AND vector_index <> $3`,
		target.WorkspaceID, target.Model, generation); err != nil {
		return fmt.Errorf("move the workspace's vectors to their new index: %w", err)
	}
	var rows int
	if err := tx.QueryRow(ctx, `INSERT INTO vector_indexes (workspace_id, embed_model, generation) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id, embed_model) DO UPDATE SET generation = EXCLUDED.generation, built_at = now()
		RETURNING (SELECT count(*) FROM chunks WHERE workspace_id = $1 AND embed_model = $2)`,
		target.WorkspaceID, target.Model, generation).Scan(&rows); err != nil {
		return fmt.Errorf("record the workspace's vector index: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('maintenance_work_mem', $1, true)`,
		fmt.Sprintf("%dkB", buildMemory(rows, target.Dims)/1024)); err != nil {
		return fmt.Errorf("set memory for the vector index build: %w", err)
	}
	if _, err := tx.Exec(ctx, workspaceIndexSQL("", generation, target.Model, target.Dims)); err != nil {
		return fmt.Errorf("build the workspace's vector index (%d vectors): %w", rows, err)
	}
	return nil
}

// buildMemory is the memory an in-memory HNSW build of n vectors of dims
// dimensions needs: each graph element holds its vector and its neighbour
// lists, 4,759 bytes at 1,024 dimensions and m = 12 (pgvector 0.8: 32 MB
// held 7,051), so 4·dims + 1 KiB is over; a fifth more, and 64 MiB at
// least, at most 4 GiB (about 680,000 vectors of 1,024 dimensions).
func buildMemory(n, dims int) int64 {
	need := int64(n) * int64(4*dims+1024) * 6 / 5
	return min(max(need, 64<<20), 4<<30)
}

// VectorWorkTimeout is the least job timeout of work that builds an HNSW
// index of n vectors (a large load's ingest, a workspace's index build):
// 20 ms a vector. The slowest build measured, 200,000 vectors on a 2-core
// machine at load average 31 to 35, took 9.3 ms a vector of wall time with
// its commit (BENCHMARKS.md, "Ingest at scale"), so a 300,000-vector build
// is given 100 minutes where other jobs get 10: cut short, a build starts
// again from nothing. The price of the margin: a job whose server died is
// taken up again only after its timeout (River's rescuer reads the
// worker's).
func VectorWorkTimeout(n int) time.Duration { return time.Duration(n) * 20 * time.Millisecond }

// workspaceIndexSQL creates the workspace index of generation, for
// vectors of model with dims dimensions; how is "" or "CONCURRENTLY".
func workspaceIndexSQL(how string, generation int64, model string, dims int) string {
	return fmt.Sprintf(`CREATE INDEX %s %s ON chunks
		USING hnsw ((embedding::public.vector(%d)) public.vector_cosine_ops) WITH (m = 12, ef_construction = 64)
		WHERE embed_model = %s AND vector_index = %d`,
		how, workspaceIndexName(generation), dims, quoteLiteral(model), generation)
}

func workspaceIndexName(generation int64) string {
	return fmt.Sprintf("chunks_hnsw_ws_%d", generation)
}

// dropVectorIndex drops the workspace index of generation, which a load
// replaced and committed: it holds no live rows. Best effort, without
// blocking searches (CONCURRENTLY), for at most 30 seconds, and only when
// no index build runs (see buildLockKey): an index left behind is dropped
// by the next large load's or build's dropStaleVectorIndexes.
func (db *DB) dropVectorIndex(ctx context.Context, generation int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = db.withBuildLock(ctx, false, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+workspaceIndexName(generation))
		return err
	})
}

// dropStaleVectorIndexes drops the workspace indexes no workspace uses any
// more (left behind by dropVectorIndex, or by deleted workspaces), unless
// an index build runs (then the next one does).
func (db *DB) dropStaleVectorIndexes(ctx context.Context) error {
	_, err := db.withBuildLock(ctx, false, dropStale)
	return err
}

func dropStale(ctx context.Context, c *pgxpool.Conn) error {
	return dropIndexes(ctx, c, "unused", `SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
		WHERE x.indrelid = 'chunks'::regclass AND c.relname LIKE 'chunks\_hnsw\_ws\_%'
		AND NOT EXISTS (SELECT FROM vector_indexes v WHERE c.relname = 'chunks_hnsw_ws_' || v.generation)`)
}

// dropIndexes drops, CONCURRENTLY, the indexes that list names; what
// says which, for errors.
func dropIndexes(ctx context.Context, c *pgxpool.Conn, what, list string) error {
	rows, err := c.Query(ctx, list)
	if err != nil {
		return fmt.Errorf("list %s vector indexes: %w", what, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list %s vector indexes: %w", what, err)
	}
	for _, name := range names {
		if _, err := c.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("drop %s vector index %s: %w", what, name, err)
		}
	}
	return nil
}
