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
-- with an index of their own: rebuild the existing ones with
-- vector_index = 0 added to their predicate, under their own name (the
-- same definition otherwise; writes to chunks wait meanwhile, searches do
-- not).
DO $$
DECLARE
    ix record;
BEGIN
    FOR ix IN SELECT c.relname AS name, pg_get_indexdef(c.oid) AS def
        FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
        WHERE x.indrelid = 'chunks'::regclass AND c.relname LIKE 'chunks\_hnsw\_%'
    LOOP
        EXECUTE regexp_replace(ix.def, '^CREATE INDEX (\S+) ON (.*) WHERE (.*)$',
            'CREATE INDEX \1_shared ON \2 WHERE ((\3) AND (vector_index = 0))');
        EXECUTE format('DROP INDEX %I', ix.name);
        EXECUTE format('ALTER INDEX %I RENAME TO %I', ix.name || '_shared', ix.name);
    END LOOP;
END $$;
