package parley

import (
	"encoding/json"
	"time"
)

// Webhook event types.
const (
	EventEscalationCreated  = "escalation.created"
	EventEscalationClaimed  = "escalation.claimed"
	EventEscalationResolved = "escalation.resolved"
)

// EscalationEventVersion is the version of the escalation events' data,
// sent as its "version".
const EscalationEventVersion = 1

// EscalationEventV1 is the data of the escalation.created, .claimed and
// .resolved webhook events, version 1: the escalation as it was when the
// event was recorded. It is the webhook's wire format, kept apart from the
// API's Escalation so that a change to what the API shows cannot change
// what receivers get (webhook/testdata/events freezes the JSON). Fields
// may be added within a version; a field removed, renamed or changed in
// meaning makes a new version. Events recorded before the version was
// sent have no "version" and the shape of version 1.
type EscalationEventV1 struct {
	Version        int                    `json:"version"`
	ID             string                 `json:"id"`
	ConversationID string                 `json:"conversation_id"`
	Reason         string                 `json:"reason"`
	Status         string                 `json:"status"`
	Team           string                 `json:"team"`
	Assignee       string                 `json:"assignee,omitempty"` // agent id
	AssigneeName   string                 `json:"assignee_name,omitempty"`
	Context        EscalationEventContext `json:"context"`
	Resolution     string                 `json:"resolution,omitempty"`
	CreatedAt      time.Time              `json:"created_at"`
	ClaimedAt      *time.Time             `json:"claimed_at,omitempty"`
	ResolvedAt     *time.Time             `json:"resolved_at,omitempty"`
}

// EscalationEventContext is the context packet in an escalation event
// (version 1).
type EscalationEventContext struct {
	Question   string                   `json:"question"`
	Language   string                   `json:"language"`
	Customer   EscalationEventCustomer  `json:"customer"`
	Channel    string                   `json:"channel,omitempty"`
	Transcript []EscalationEventMessage `json:"transcript"`
	// Candidates are the reply engine's ranked answers with scores and
	// sources, best first.
	Candidates []EscalationEventCandidate `json:"candidates"`
	Confidence float64                    `json:"confidence"`
	Draft      string                     `json:"draft,omitempty"`
	Explain    string                     `json:"explain"`
	Summary    string                     `json:"summary,omitempty"`
}

// EscalationEventCandidate is one of the reply engine's ranked answers in
// an escalation event (version 1). It has the fields of
// retrieval.Candidate, which the engine stores in the escalation's
// context; a test fails when the two differ.
type EscalationEventCandidate struct {
	Group      string                  `json:"group"`
	Answer     string                  `json:"answer"`
	Intent     string                  `json:"intent,omitempty"`
	Tags       []string                `json:"tags,omitempty"`
	Kind       string                  `json:"kind"`
	Score      float64                 `json:"score"`
	Prior      float64                 `json:"prior,omitempty"`
	Similarity float64                 `json:"similarity"`
	Hits       int                     `json:"hits"`
	Sources    []EscalationEventSource `json:"sources"`
}

// EscalationEventSource is a source a candidate cites, in an escalation
// event (version 1).
type EscalationEventSource struct {
	ID         int64   `json:"id"`
	ExternalID string  `json:"external_id"`
	Title      string  `json:"title,omitempty"`
	URL        string  `json:"url,omitempty"`
	Section    string  `json:"section,omitempty"`
	Score      float64 `json:"score"`
}

// EscalationEventCustomer is who the conversation is with, in an
// escalation event (version 1).
type EscalationEventCustomer struct {
	ID         string         `json:"id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Language   string         `json:"language,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// EscalationEventMessage is a message of the transcript in an escalation
// event (version 1).
type EscalationEventMessage struct {
	ID        int64           `json:"id"`
	Role      string          `json:"role"`
	Text      string          `json:"text"`
	Internal  bool            `json:"internal,omitempty"`
	Helpful   *bool           `json:"helpful,omitempty"`
	Meta      json.RawMessage `json:"meta,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}
