package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Index builds beside answering and ingesting.
//
// A workspace that grows through small loads (each under bulkLoadChunks)
// gets no index from any of them: its rows stay in the model's shared
// index, where a workspace among many is found slower and less exactly
// (BENCHMARKS.md, "Scale: many workspaces in one database"). Once more
// than exactSearchMax of them are there, which is when its searches start
// going through that index, NeedsVectorIndex says so, and BuildVectorIndex,
// run by a background job (jobs.VectorIndex), gives the workspace an index
// of its own in two steps:
//
//  1. One short transaction, under the workspace's vectors lock taken
//     exclusive (see planVectors), numbers a new generation, moves the
//     workspace's rows of the model to it and records it in
//     vector_indexes. The UPDATE of chunks.vector_index adds no entry to
//     any HNSW index: the shared one leaves out that generation and no
//     other covers it yet. From the commit on, the workspace's searches
//     are exact (a few milliseconds at a few thousand rows) and its ingests
//     write that generation.
//  2. CREATE INDEX CONCURRENTLY builds the generation's index without
//     holding up searches or writes; once it is valid, the workspace's
//     searches use it. A build cut short (an error, a crash) leaves an
//     invalid index: NeedsVectorIndex reports it, and the next run drops it
//     and builds it again.
//
// Index builds of a schema run one at a time (buildLockKey): this one, a
// large load's (planVectors), the upgrade of the shared indexes
// (UpgradeVectorIndexes) and drops of unused indexes. A concurrent build
// waits for every transaction older than its snapshot to end, so no
// transaction may wait for a lock that a build holds, or the two would
// deadlock: the build lock is polled (pg_try_advisory_lock), never waited
// for, and an ingest's ANALYZE, which would wait for the build's lock on
// chunks, is skipped while a build runs (refreshStats; autovacuum does it).

// buildLockKey is the advisory lock of index builds on chunks.
const buildLockKey = `hashtext('parley.vector_build.' || current_schema())`

// buildLockPoll is how often a waiting build looks for the lock again.
const buildLockPoll = 100 * time.Millisecond

// pollLock runs sql, a pg_try_advisory_lock call, until it returns true,
// or ctx ends.
func pollLock(ctx context.Context, q rowQuerier, sql string) error {
	for {
		var got bool
		if err := q.QueryRow(ctx, sql).Scan(&got); err != nil {
			return err
		}
		if got {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(buildLockPoll):
		}
	}
}

// withBuildLock runs fn on a connection holding the build lock, taken
// when it is free (or, with wait, once it is), and reports whether fn ran.
func (db *DB) withBuildLock(ctx context.Context, wait bool, fn func(context.Context, *pgxpool.Conn) error) (bool, error) {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("connect for an index build: %w", err)
	}
	defer c.Release()
	take := `SELECT pg_try_advisory_lock(` + buildLockKey + `)`
	if wait {
		if err := pollLock(ctx, c, take); err != nil {
			return false, fmt.Errorf("wait for other index builds: %w", err)
		}
	} else {
		var got bool
		if err := c.QueryRow(ctx, take).Scan(&got); err != nil || !got {
			return false, err
		}
	}
	defer func() {
		// On a fresh context: ctx may have ended. A connection that
		// cannot unlock is closed, which unlocks.
		if _, err := c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+buildLockKey+`)`); err != nil {
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return true, fn(ctx, c)
}

// NeedsVectorIndex reports whether the workspace's vectors of model need
// BuildVectorIndex: more than exactSearchMax of them are in the model's
// shared index, or the index of their own is missing or invalid (a build
// cut short, or running now). It reads at most exactSearchMax+1 rows.
func (db *DB) NeedsVectorIndex(ctx context.Context, workspaceID, model string) (bool, error) {
	var need bool
	err := db.pool.QueryRow(ctx, `SELECT CASE WHEN g.generation IS NULL
			THEN (SELECT count(*) FROM (SELECT FROM chunks WHERE workspace_id = $1 AND embed_model = $2 AND vector_index = 0 LIMIT $3 + 1) x) > $3
			ELSE NOT EXISTS (SELECT FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
				WHERE x.indrelid = 'chunks'::regclass AND i.relname = 'chunks_hnsw_ws_' || g.generation AND x.indisvalid)
		END
		FROM (SELECT (SELECT generation FROM vector_indexes WHERE workspace_id = $1 AND embed_model = $2) AS generation) g`,
		workspaceID, model, exactSearchMax).Scan(&need)
	if err != nil {
		return false, fmt.Errorf("check the workspace's vector index: %w", err)
	}
	return need, nil
}

// CountVectors returns the number of the workspace's vectors of model:
// what an index build of them has to index.
func (db *DB) CountVectors(ctx context.Context, workspaceID, model string) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM chunks WHERE workspace_id = $1 AND embed_model = $2`,
		workspaceID, model).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the workspace's vectors: %w", err)
	}
	return n, nil
}

// BuildVectorIndex gives the workspace's vectors of model an index of
// their own, if they need one (NeedsVectorIndex), without holding up
// searches or ingests (see above), and returns the number of vectors it
// indexed (0: nothing to do). It waits for other index builds first.
func (db *DB) BuildVectorIndex(ctx context.Context, workspaceID, model string) (int, error) {
	var n int
	_, err := db.withBuildLock(ctx, true, func(ctx context.Context, c *pgxpool.Conn) error {
		if err := dropStale(ctx, c); err != nil {
			return err
		}
		generation, err := moveToOwnIndex(ctx, c, workspaceID, model)
		db.expireChunkStats(workspaceID)
		if err != nil || generation == 0 {
			return err
		}
		name := workspaceIndexName(generation)
		var valid bool
		err = c.QueryRow(ctx, `SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = 'chunks'::regclass AND i.relname = $1`, name).Scan(&valid)
		switch {
		case err == nil && valid:
			return nil
		case err == nil: // left invalid by a build cut short
			if _, err := c.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+name); err != nil {
				return fmt.Errorf("drop the invalid vector index %s: %w", name, err)
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up vector index %s: %w", name, err)
		}
		var dims int
		if err := c.QueryRow(ctx, `SELECT count(*), coalesce(max(vector_dims(embedding)) FILTER (WHERE id = (SELECT min(id) FROM chunks
				WHERE workspace_id = $1 AND embed_model = $2 AND vector_index = $3)), 0)
			FROM chunks WHERE workspace_id = $1 AND embed_model = $2 AND vector_index = $3`,
			workspaceID, model, generation).Scan(&n, &dims); err != nil {
			return fmt.Errorf("count the workspace's vectors: %w", err)
		}
		if n == 0 {
			return nil
		}
		return buildConcurrently(ctx, c, workspaceIndexSQL("CONCURRENTLY", generation, model, dims), n, dims)
	})
	if err != nil {
		return 0, fmt.Errorf("build the vector index of workspace %s: %w", workspaceID, err)
	}
	return n, nil
}

// moveToOwnIndex returns the generation of the workspace's vectors of
// model after moving them out of the shared index, if more than
// exactSearchMax of them were there (0: they stay there).
func moveToOwnIndex(ctx context.Context, c *pgxpool.Conn, workspaceID, model string) (int64, error) {
	var generation int64
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('parley.vectors.' || $1))`, workspaceID); err != nil {
			return fmt.Errorf("lock the workspace's vectors: %w", err)
		}
		var shared int
		err := tx.QueryRow(ctx, `SELECT coalesce((SELECT generation FROM vector_indexes WHERE workspace_id = $1 AND embed_model = $2), 0),
				(SELECT count(*) FROM chunks WHERE workspace_id = $1 AND embed_model = $2 AND vector_index = 0)`,
			workspaceID, model).Scan(&generation, &shared)
		if err != nil {
			return fmt.Errorf("read the workspace's vector index: %w", err)
		}
		if generation != 0 || shared <= exactSearchMax {
			return nil
		}
		if err := tx.QueryRow(ctx, `SELECT nextval('vector_index_generation')`).Scan(&generation); err != nil {
			return fmt.Errorf("number the workspace's vector index: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE chunks SET vector_index = $3 WHERE workspace_id = $1 AND embed_model = $2`,
			workspaceID, model, generation); err != nil {
			return fmt.Errorf("move the workspace's vectors to their own index: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vector_indexes (workspace_id, embed_model, generation) VALUES ($1, $2, $3)`,
			workspaceID, model, generation); err != nil {
			return fmt.Errorf("record the workspace's vector index: %w", err)
		}
		return nil
	})
	return generation, err
}

// buildConcurrently runs create, a CREATE INDEX CONCURRENTLY of n vectors
// of dims dimensions, with the memory to build it in memory (buildMemory).
func buildConcurrently(ctx context.Context, c *pgxpool.Conn, create string, n, dims int) error {
	if _, err := c.Exec(ctx, `SELECT set_config('maintenance_work_mem', $1, false)`,
		fmt.Sprintf("%dkB", buildMemory(n, dims)/1024)); err != nil {
		return fmt.Errorf("set memory for the vector index build: %w", err)
	}
	defer func() { _, _ = c.Exec(context.WithoutCancel(ctx), `RESET maintenance_work_mem`) }()
	if _, err := c.Exec(ctx, create); err != nil {
		return fmt.Errorf("build the vector index (%d vectors): %w", n, err)
	}
	return nil
}

// UpgradeVectorIndexes rebuilds the models' shared vector indexes created
// before migration 0020, whose predicate lacks vector_index = 0 (rows of
// workspaces with an index of their own go into them too, one by one),
// without holding up searches or writes: each is built again CONCURRENTLY
// under a new name, swapped in by name, and the old one dropped
// CONCURRENTLY. Until then they serve as they are. It waits for other
// index builds first and returns how many it rebuilt. `parley serve` runs
// it at start (and `parley migrate`); a run cut short leaves a
// *_next or *_old index, which the next run drops.
func (db *DB) UpgradeVectorIndexes(ctx context.Context) (int, error) {
	var n int
	_, err := db.withBuildLock(ctx, true, func(ctx context.Context, c *pgxpool.Conn) error {
		if err := dropIndexes(ctx, c, "leftover", `SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = 'chunks'::regclass AND i.relname ~ '^chunks_hnsw_.*_(next|old)$'`); err != nil {
			return err
		}
		rows, err := c.Query(ctx, `SELECT i.relname, pg_get_indexdef(i.oid),
				(SELECT count(*) FROM chunks WHERE embed_model = substring(pg_get_expr(x.indpred, x.indrelid) FROM $$embed_model = '(.*)'::text$$)),
				coalesce(a.atttypmod, 0)
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			LEFT JOIN pg_attribute a ON a.attrelid = i.oid AND a.attnum = 1
			WHERE x.indrelid = 'chunks'::regclass AND i.relname LIKE 'chunks\_hnsw\_%' AND i.relname NOT LIKE 'chunks\_hnsw\_ws\_%'
				AND pg_get_expr(x.indpred, x.indrelid) NOT LIKE '%vector_index%'`)
		if err != nil {
			return fmt.Errorf("list shared vector indexes to upgrade: %w", err)
		}
		type old struct {
			name, def  string
			rows, dims int
		}
		olds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (old, error) {
			var o old
			err := r.Scan(&o.name, &o.def, &o.rows, &o.dims)
			return o, err
		})
		if err != nil {
			return fmt.Errorf("list shared vector indexes to upgrade: %w", err)
		}
		for _, o := range olds {
			if err := upgradeSharedIndex(ctx, c, o.name, o.def, o.rows, o.dims); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("upgrade the shared vector indexes: %w", err)
	}
	return n, nil
}

var indexDef = regexp.MustCompile(`^CREATE INDEX (\S+) ON (.*) WHERE (.*)$`)

// upgradeSharedIndex rebuilds the shared index name, defined by def, of
// rows vectors of dims dimensions, with vector_index = 0 added to its
// predicate (see UpgradeVectorIndexes).
func upgradeSharedIndex(ctx context.Context, c *pgxpool.Conn, name, def string, rows, dims int) error {
	m := indexDef.FindStringSubmatch(def)
	if m == nil {
		return fmt.Errorf("shared vector index %s: unexpected definition %q", name, def)
	}
	next, prev := name+"_next", name+"_old"
	create := fmt.Sprintf(`CREATE INDEX CONCURRENTLY %s ON %s WHERE ((%s) AND (vector_index = 0))`,
		pgx.Identifier{next}.Sanitize(), m[2], m[3])
	if err := buildConcurrently(ctx, c, create, rows, dims); err != nil {
		return fmt.Errorf("shared vector index %s: %w", name, err)
	}
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER INDEX %s RENAME TO %s`, pgx.Identifier{name}.Sanitize(), pgx.Identifier{prev}.Sanitize())); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf(`ALTER INDEX %s RENAME TO %s`, pgx.Identifier{next}.Sanitize(), pgx.Identifier{name}.Sanitize()))
		return err
	})
	if err != nil {
		return fmt.Errorf("shared vector index %s: swap in the rebuilt index: %w", name, err)
	}
	if _, err := c.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{prev}.Sanitize()); err != nil {
		return fmt.Errorf("shared vector index %s: drop the old index: %w", name, err)
	}
	return nil
}
