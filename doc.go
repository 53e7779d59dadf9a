// Package parley holds the domain types and errors shared by every part of
// Parley, the AI reply copilot for customer conversations.
//
// Implementations live in child packages named for their job: postgres (the
// store), retrieval (embedders, classifier and ranking), ingest (loaders and
// the pipeline), reply (the answer engine), assist (agent assist), webhook
// (webhook delivery), llm (the chat-model interface and tokenizer) with
// llm/openai (the client), prompts (prompt templates), api (HTTP) and evals
// (offline suites). Wiring happens only in cmd/parley.
package parley
