// Package parley holds the domain types and errors shared by every part of
// Parley, the AI reply copilot for customer conversations.
//
// Implementations live in child packages named for what they depend on:
// postgres (the store), retrieval (embedders and ranking), prompts (chat
// models and templates), ingest (loaders and the pipeline), reply (the answer
// engine), api (HTTP) and evals (offline suites). Wiring happens only in
// cmd/parley.
package parley
