-- Ingest jobs run on River (the job queue whose tables Apply creates after
-- these migrations): any server may take a queued job, and one whose server
-- died is taken again. So the upload stays in the database until the job
-- ends, and the job row says which attempt is running and which River job
-- carries it. Heartbeats are gone: River's rescuer finds dead runs.
ALTER TABLE ingest_jobs ADD COLUMN upload bytea;
ALTER TABLE ingest_jobs ADD COLUMN attempt int NOT NULL DEFAULT 0;
ALTER TABLE ingest_jobs ADD COLUMN river_job_id bigint;
