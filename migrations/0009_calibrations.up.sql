-- Per-workspace confidence calibration (reply.Calibration): the lowest
-- confidence at which the engine's answers to the workspace's own questions
-- (each asked with its own chunk left out) and to generic out-of-scope
-- questions reach the target precision, for vectors of one embedding model.
-- Refitted after each ingest; threshold > 1 means no confidence reaches it.
CREATE TABLE calibrations (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    embed_model  text NOT NULL,
    threshold    double precision NOT NULL,
    target       double precision NOT NULL,
    positives    int NOT NULL,
    negatives    int NOT NULL,
    precision    double precision NOT NULL,
    coverage     double precision NOT NULL,
    fitted_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (workspace_id, embed_model)
);
