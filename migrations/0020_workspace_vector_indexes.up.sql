-- A large load into one workspace builds an HNSW index of that workspace's
-- vectors (CREATE INDEX, in the load's transaction) instead of inserting
-- them one by one into the model's index shared by all workspaces, which
-- grew ten times slower per row at 200,000 vectors (postgres.DB.Ingest,
-- BENCHMARKS.md "Bulk loads"). chunks.vector_index says which index holds
-- a row: 0 the model's shared index, else the workspace's own index of
-- that generation, named chunks_hnsw_ws_<generation>, whose predicate is
-- vector_index = <generation>. A workspace's rows of one model are all in
-- one index, the generation vector_indexes records for it.
ALTER TABLE chunks ADD COLUMN vector_index bigint NOT NULL DEFAULT 0;

CREATE SEQUENCE vector_index_generation;

CREATE TABLE vector_indexes (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    embed_model  text NOT NULL,
    generation   bigint NOT NULL,
    built_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, embed_model)
);

-- The shared index of each model must leave out the rows of workspaces
-- with an index of their own (predicate vector_index = 0). Indexes created
-- before this migration lack that; they are rebuilt CONCURRENTLY after the
-- migrations, by postgres.DB.UpgradeVectorIndexes (run by `parley serve`
-- at start and by `parley migrate`), not here: a migration runs in one
-- transaction, and rebuilding there held every write to chunks for the
-- whole build. (The first version of this file rebuilt them here;
-- databases it ran on already have the new predicate.) Meanwhile the old
-- indexes serve as before: their predicate is implied by every search's.
