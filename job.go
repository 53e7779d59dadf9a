package parley

import (
	"encoding/json"
	"time"
)

// Ingest job states. A job is queued, then running, then succeeded or
// failed; it never leaves a final state. A run that fails or is cut short
// (its server stopped or died) puts the job back to queued for another
// attempt, until its last.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// IngestJob is an upload being embedded and written in the background.
type IngestJob struct {
	ID          string
	WorkspaceID string
	KBID        string
	State       string
	// Attempt counts the runs started (1 for the first); 0 while none has.
	Attempt int
	// Counts is the JSON object the runner last stored: its progress while
	// running, its result once done.
	Counts    json.RawMessage
	Error     string
	CreatedAt time.Time
	// UpdatedAt is when the job last changed or reported progress.
	UpdatedAt time.Time
}

// IngestJobUpdate sets an unfinished ingest job's state, counts (the JSON
// object its runner encoded) and error.
type IngestJobUpdate struct {
	ID     string
	State  string
	Counts json.RawMessage
	Error  string
}
