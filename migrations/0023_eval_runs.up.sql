-- Eval runs kept with a workspace (parley eval --record, POST /v1/evals/runs)
-- for the console's Analytics page: the figures, gates and worst failed
-- cases of each run (parley.EvalRun), not the full report.
CREATE TABLE eval_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    suite          text NOT NULL,
    ran_at         timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    version        text NOT NULL DEFAULT '',
    embedder       text NOT NULL DEFAULT '',
    eval_workspace text NOT NULL DEFAULT '',
    passed         boolean NOT NULL,
    figures        jsonb NOT NULL,
    gates          jsonb NOT NULL,
    failure_count  integer NOT NULL,
    failures       jsonb NOT NULL
);

CREATE INDEX eval_runs_workspace ON eval_runs (workspace_id, ran_at DESC, id DESC);
