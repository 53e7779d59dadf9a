-- Per-workspace intent classifiers (retrieval.Classifier): a multinomial
-- logistic regression over the vectors of one embedding model, trained on
-- the workspace's chunks whose group key starts with 'intent:'. One row per
-- workspace and model, replaced at each training.
--
-- weights holds little-endian float32s: for each class (in classes order)
-- its dims weights, then one bias per class, so 4 * n_classes * (dims + 1)
-- bytes. data_hash identifies the training data (chunk ids, group keys and
-- training options): an unchanged hash skips retraining.
CREATE TABLE classifiers (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    embed_model  text NOT NULL,
    classes      text[] NOT NULL,
    weights      bytea NOT NULL,
    dims         int NOT NULL CHECK (dims > 0),
    examples     int NOT NULL,
    data_hash    text NOT NULL,
    trained_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (workspace_id, embed_model),
    CHECK (length(weights) = 4 * cardinality(classes) * (dims + 1))
);

-- The engine looks up the nearest chunk (and the answer text) of the few
-- answer groups the classifier ranks high that the search did not return.
CREATE INDEX chunks_workspace_group ON chunks (workspace_id, group_key);
