package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// contextVersion is the version of the escalation context packet as
// escalations.context stores it. Rows written before the version was
// stored have none (0) and the shape of version 1.
const contextVersion = 1

// storedContext is an escalation's context packet as it is stored,
// version 1: the stored shape, kept apart from the API's
// parley.EscalationContext so that a change to what the API shows cannot
// change what is on disk. A change of shape gets a new version, and rows
// of the older versions must still read. SQL reads some of its keys too:
// question, language, and the first candidate's intent, tags, similarity
// and sources (ListEscalations leaves out transcript and candidates;
// ResolvedConversations and the analytics read the rest).
type storedContext struct {
	Version    int             `json:"version"`
	Question   string          `json:"question"`
	Language   string          `json:"language"`
	Customer   storedCustomer  `json:"customer"`
	Channel    string          `json:"channel,omitempty"`
	Transcript []storedMessage `json:"transcript"`
	// Candidates are the reply engine's ranked answers with scores and
	// sources, as it encoded them (retrieval.Candidate).
	Candidates json.RawMessage `json:"candidates"`
	Confidence float64         `json:"confidence"`
	Draft      string          `json:"draft,omitempty"`
	Explain    string          `json:"explain"`
	Summary    string          `json:"summary,omitempty"`
}

type storedCustomer struct {
	ID         string         `json:"id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Language   string         `json:"language,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

type storedMessage struct {
	ID        int64           `json:"id"`
	Role      string          `json:"role"`
	Text      string          `json:"text"`
	Internal  bool            `json:"internal,omitempty"`
	Helpful   *bool           `json:"helpful,omitempty"`
	Meta      json.RawMessage `json:"meta,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// encodeContext is the packet c as escalations.context stores it.
func encodeContext(c parley.EscalationContext) ([]byte, error) {
	s := storedContext{
		Version:  contextVersion,
		Question: c.Question,
		Language: c.Language,
		Customer: storedCustomer{
			ID: c.Customer.ID, Name: c.Customer.Name, Email: c.Customer.Email,
			Language: c.Customer.Language, Properties: c.Customer.Properties,
		},
		Channel:    c.Channel,
		Candidates: c.Candidates,
		Confidence: c.Confidence,
		Draft:      c.Draft,
		Explain:    c.Explain,
		Summary:    c.Summary,
	}
	if c.Transcript != nil {
		s.Transcript = make([]storedMessage, len(c.Transcript))
	}
	for i, m := range c.Transcript {
		s.Transcript[i] = storedMessage{ID: m.ID, Role: m.Role, Text: m.Text, Internal: m.Internal,
			Helpful: m.Helpful, Meta: m.Meta, CreatedAt: m.CreatedAt}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode escalation context: %w", err)
	}
	return raw, nil
}

// decodeContext reads a stored packet of any version this binary knows
// into the API's shape.
func decodeContext(raw []byte) (parley.EscalationContext, error) {
	var (
		s storedContext
		c parley.EscalationContext
	)
	if err := json.Unmarshal(raw, &s); err != nil {
		return c, err
	}
	if s.Version > contextVersion {
		return c, fmt.Errorf("stored context has version %d; this binary reads up to %d", s.Version, contextVersion)
	}
	c = parley.EscalationContext{
		Question: s.Question,
		Language: s.Language,
		Customer: parley.Customer{
			ID: s.Customer.ID, Name: s.Customer.Name, Email: s.Customer.Email,
			Language: s.Customer.Language, Properties: s.Customer.Properties,
		},
		Channel:    s.Channel,
		Candidates: s.Candidates,
		Confidence: s.Confidence,
		Draft:      s.Draft,
		Explain:    s.Explain,
		Summary:    s.Summary,
	}
	if s.Transcript != nil {
		c.Transcript = make([]parley.Message, len(s.Transcript))
	}
	for i, m := range s.Transcript {
		c.Transcript[i] = parley.Message{ID: m.ID, Role: m.Role, Text: m.Text, Internal: m.Internal,
			Helpful: m.Helpful, Meta: m.Meta, CreatedAt: m.CreatedAt}
	}
	return c, nil
}
