package parley

import (
	"bytes"
	"encoding/json"
	"time"
)

// Learning modes: what happens to the customer's question when an agent
// resolves an escalation naming the knowledge that answered it.
const (
	// LearnAuto adds the question, masked, as a new phrasing of that
	// knowledge at once.
	LearnAuto = "auto"
	// LearnReview queues it for an admin to approve or reject.
	LearnReview = "review"
	// LearnOff learns nothing (the agent's choice still labels the
	// resolved-conversation export).
	LearnOff = "off"
)

// AnsweredBy is what an agent says answered a customer: one of the
// workspace's sources (SourceID, with ChunkID for one part of an article),
// an answer group as the escalation's candidates name it (Group, like
// "intent:card_arrival" or "source:faq-12"), or no knowledge at all
// (None). In JSON: {"source_id": 42}, {"source_id": 42, "chunk_id": 901},
// {"group": "intent:card_arrival"} or the string "none".
type AnsweredBy struct {
	None     bool
	SourceID int64
	ChunkID  int64
	Group    string
}

type answeredByJSON struct {
	SourceID int64  `json:"source_id,omitempty"`
	ChunkID  int64  `json:"chunk_id,omitempty"`
	Group    string `json:"group,omitempty"`
}

// UnmarshalJSON reads "none" or an object with exactly one of source_id
// and group (chunk_id only with source_id).
func (a *AnsweredBy) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil || s != "none" {
			return Errorf(EInvalid, `answered_by must be "none" or an object like {"source_id": 42} or {"group": "intent:refund"}`)
		}
		*a = AnsweredBy{None: true}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v answeredByJSON
	if err := dec.Decode(&v); err != nil {
		return Errorf(EInvalid, `answered_by must be "none" or an object with source_id (and optionally chunk_id) or group: %v`, err)
	}
	*a = AnsweredBy{SourceID: v.SourceID, ChunkID: v.ChunkID, Group: v.Group}
	return a.Validate()
}

// MarshalJSON writes a as UnmarshalJSON reads it.
func (a AnsweredBy) MarshalJSON() ([]byte, error) {
	if a.None {
		return []byte(`"none"`), nil
	}
	return json.Marshal(answeredByJSON{SourceID: a.SourceID, ChunkID: a.ChunkID, Group: a.Group})
}

// Validate checks the shape of a; whether the knowledge exists in the
// workspace is the store's to say.
func (a AnsweredBy) Validate() error {
	switch {
	case a.None && (a.SourceID != 0 || a.ChunkID != 0 || a.Group != ""):
		return Errorf(EInvalid, `answered_by "none" names no knowledge`)
	case a.None:
		return nil
	case a.SourceID < 0 || a.ChunkID < 0:
		return Errorf(EInvalid, "answered_by: source_id and chunk_id are positive numbers")
	case a.SourceID != 0 && a.Group != "":
		return Errorf(EInvalid, "answered_by: give source_id or group, not both")
	case a.SourceID == 0 && a.Group == "":
		return Errorf(EInvalid, `answered_by: give source_id (and optionally chunk_id), group, or "none"`)
	case a.ChunkID != 0 && a.SourceID == 0:
		return Errorf(EInvalid, "answered_by: chunk_id needs the source_id it belongs to")
	case len(a.Group) > 1000:
		return Errorf(EInvalid, "answered_by: group is too long")
	}
	return nil
}

// AnsweredKnowledge is the knowledge an agent named, as the store found
// it in the workspace: the answer group it belongs to and the source (and
// chunk) named, with the labels the resolved-conversation export carries.
// None is true when the agent said no knowledge answered.
type AnsweredKnowledge struct {
	None       bool     `json:"none,omitempty"`
	Group      string   `json:"group,omitempty"`
	SourceID   int64    `json:"source_id,omitempty"`
	ChunkID    int64    `json:"chunk_id,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	Title      string   `json:"title,omitempty"`
	Intent     string   `json:"intent,omitempty"`
	Tags       []string `json:"tags,omitempty"`
}

// AnswerGroup is one answer of a workspace's knowledge as a phrasing
// joins it: the texts already searched for it (to find duplicates and
// the codes it names) and what an answer built from it shows and cites.
type AnswerGroup struct {
	Key      string
	Texts    []string // every stored chunk text of the group
	Answer   string   // what an answer from the group shows; may be empty (labelled examples)
	SourceID int64    // the source the phrasing's citation copies
	Title    string
	URL      string
	Intent   string
	Tags     []string
	Language string
}

// Phrasing states: pending review, approved (to be added to knowledge),
// added (a source of the learned knowledge base), rejected.
const (
	PhrasingPending  = "pending"
	PhrasingApproved = "approved"
	PhrasingAdded    = "added"
	PhrasingRejected = "rejected"
)

// Phrasing is a customer's question, masked, learned from a resolution as
// a new way of asking for one answer group.
type Phrasing struct {
	ID           string     `json:"id"`
	WorkspaceID  string     `json:"-"`
	EscalationID string     `json:"escalation_id,omitempty"`
	Group        string     `json:"group"`
	SourceID     int64      `json:"source_id,omitempty"` // the answering source named by the agent
	Text         string     `json:"text"`
	Normalized   string     `json:"-"`
	Language     string     `json:"language"`
	Status       string     `json:"status"`
	AddedSource  int64      `json:"added_source_id,omitempty"` // the learned source, once added
	CreatedAt    time.Time  `json:"created_at"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
}

// PhrasingFilter selects a page of phrasings, oldest first.
type PhrasingFilter struct {
	Status string // one of the Phrasing states; empty for all
	After  string // the cursor of the previous page
	Limit  int
}

// Learned is what a resolution taught: the phrasing stored (nil when
// nothing was), and why not when nothing was: "off" (the workspace does
// not learn), "none" (no knowledge answered), "not_named" (the agent did
// not say), "duplicate" (the group already has this phrasing), "empty"
// (nothing left after masking), "human_request" (the question asked for a
// person, not for the answer).
type Learned struct {
	Phrasing *Phrasing `json:"phrasing,omitempty"`
	Skipped  string    `json:"skipped,omitempty"`
}
