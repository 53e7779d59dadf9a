package ingest

import "encoding/json"

// JobCounts is what a background ingest job stores as its counts: the plan
// made when the upload was validated, the progress while it runs, and its
// result.
type JobCounts struct {
	Documents int     `json:"documents"`
	Planned   Result  `json:"planned"`
	Written   int     `json:"written"`  // changed sources written so far
	ToWrite   int     `json:"to_write"` // changed sources to write
	Result    *Result `json:"result,omitempty"`
	ElapsedMS int64   `json:"elapsed_ms,omitempty"`
}

// JSON is c as a job stores it.
func (c JobCounts) JSON() json.RawMessage {
	raw, err := json.Marshal(c)
	if err != nil { // numbers only: cannot happen
		panic("encode job counts: " + err.Error())
	}
	return raw
}
