-- The keyword leg's word statistics: in how many of a workspace's chunks
-- (of one embedding model) each word of their full-text vectors occurs.
-- The search reads a question word's count here (one index lookup) instead
-- of counting its chunks on every question. The statements that write
-- chunks (postgres/chunks.go, postgres/knowledge.go) keep it exact in
-- their own transactions; nothing else may write chunks. A replica older
-- than this migration does not: during a rolling upgrade, load knowledge
-- only once every replica runs this version, or recount afterwards (the
-- INSERT below, after DELETE FROM chunk_words).
CREATE TABLE chunk_words (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    embed_model  text NOT NULL,
    word         text NOT NULL,
    chunks       integer NOT NULL,
    PRIMARY KEY (workspace_id, embed_model, word)
);

INSERT INTO chunk_words (workspace_id, embed_model, word, chunks)
SELECT c.workspace_id, c.embed_model, w.word, count(*)
FROM chunks c, unnest(tsvector_to_array(c.tsv)) w(word)
GROUP BY 1, 2, 3;

-- escalations_resolved_times (0014) has the same key and condition and
-- carries created_at too: this one only doubled the work of a resolution.
DROP INDEX escalations_resolved;
