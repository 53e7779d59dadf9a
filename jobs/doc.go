// Package jobs holds Parley's background jobs and their workers, run on
// River, the job queue kept in PostgreSQL (postgres.Queue): a queued job is
// taken by whichever server is free, and one whose server died is run again
// by another (or by the same one, restarted).
//
// The jobs: ingest jobs (Ingest), uploads too large to write before the
// response; knowledge base syncs (Sync): a website crawled again, asked
// for over the API or due on its schedule; trainings (Train); and index
// builds (VectorIndex): a workspace grown past exact search through small
// ingests gets an HNSW index of its own. Webhook deliveries stay on the
// outbox (package webhook), whose per-destination lanes River's queues do
// not give.
package jobs
