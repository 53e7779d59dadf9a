package parley

import (
	"encoding/json"
	"time"
)

// Ingest job states. A job is queued, then running, then succeeded or
// failed; it never leaves a final state.
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
	// Counts is the JSON object the runner last stored: its progress while
	// running, its result once done.
	Counts    json.RawMessage
	Error     string
	CreatedAt time.Time
	// UpdatedAt is when the job last changed or its runner last reported
	// that it is alive.
	UpdatedAt time.Time
}
