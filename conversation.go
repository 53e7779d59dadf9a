package parley

import (
	"encoding/json"
	"regexp"
	"time"
)

// Customer is who a conversation is with, as the widget knows them.
type Customer struct {
	ID         string         `json:"id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Language   string         `json:"language,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Conversation is one customer's chat with the business.
type Conversation struct {
	ID          string   `json:"id"`
	WorkspaceID string   `json:"-"`
	Channel     string   `json:"channel"`
	Customer    Customer `json:"customer"`
	Language    string   `json:"language"`
	Status      string   `json:"status"` // a State: bot, waiting, agent or resolved
	// VisitorID is the widget visitor the conversation belongs to; empty
	// for conversations started through the server API.
	VisitorID string    `json:"visitor_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Messages  []Message `json:"messages,omitempty"`
}

// Conversation states. A conversation starts with the bot; a handoff makes
// it wait for a person (the bot stays silent), an agent's claim or first
// reply gives it to that agent, and resolving it ends the handoff. A
// customer who writes after it is resolved is with the bot again.
const (
	StateBot      = "bot"
	StateWaiting  = "waiting"
	StateAgent    = "agent"
	StateResolved = "resolved"
)

// Message roles.
const (
	RoleCustomer = "customer"
	RoleBot      = "bot"
	RoleHuman    = "agent"
	RoleSystem   = "system"
)

// Message is one turn of a conversation. Meta holds what produced a bot
// message (confidence, sources, escalation id). Internal messages are
// agents' notes: never shown to the customer, never given to the bot.
type Message struct {
	ID       int64  `json:"id"`
	Role     string `json:"role"`
	Text     string `json:"text"`
	Internal bool   `json:"internal,omitempty"`
	// Helpful is the customer's feedback on a bot answer, when given.
	Helpful   *bool           `json:"helpful,omitempty"`
	Meta      json.RawMessage `json:"meta,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// NewMessage is a message to append to a conversation of a workspace.
// Meta is what produced it, encoded by the package that wrote it (the
// reply engine's answer metadata, say); empty stores {}.
type NewMessage struct {
	WorkspaceID    string
	ConversationID string
	Role           string
	Text           string
	Meta           json.RawMessage
}

// CustomerMessage is a customer's message to record; an empty
// ConversationID starts a conversation with the channel, customer and
// language.
type CustomerMessage struct {
	WorkspaceID    string
	ConversationID string
	Channel        string
	Customer       Customer
	Language       string
	Text           string
	Meta           json.RawMessage
}

// Resolution closes an escalation for an agent, with a final reply to the
// customer or without one (Reply empty).
type Resolution struct {
	WorkspaceID  string
	EscalationID string
	AgentID      string
	Reply        string
	// AnsweredBy names the knowledge that answered, or none; nil takes
	// what the agent's last reply in the handoff named, if any.
	AnsweredBy *AnsweredBy
}

// Escalation reasons.
const (
	ReasonLowConfidence  = "low_confidence"
	ReasonNoMatch        = "no_match"
	ReasonHumanRequested = "human_requested"
	ReasonRepeat         = "repeat"
	ReasonSensitive      = "sensitive"
	ReasonModelError     = "model_error"
	ReasonUnhelpful      = "unhelpful" // the customer marked an answer unhelpful, then asked for a person
)

// ErrOpenEscalation is returned for a handoff of a conversation that
// already has an unresolved escalation: the database allows one.
var ErrOpenEscalation = &Error{Code: EConflict, Message: "the conversation is already handed to a person"}

// Escalation statuses.
const (
	StatusOpen     = "open"
	StatusClaimed  = "claimed"
	StatusResolved = "resolved"
)

// Escalation hands a conversation to a human with everything needed to
// reply without asking the customer again.
type Escalation struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	Reason         string            `json:"reason"`
	Status         string            `json:"status"`
	Team           string            `json:"team"`
	Assignee       string            `json:"assignee,omitempty"` // agent id
	AssigneeName   string            `json:"assignee_name,omitempty"`
	Context        EscalationContext `json:"context"`
	Resolution     string            `json:"resolution,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	ClaimedAt      *time.Time        `json:"claimed_at,omitempty"`
	ResolvedAt     *time.Time        `json:"resolved_at,omitempty"`
	// AnsweredBy is the knowledge the resolving agent said answered (or
	// none); nil when they did not say.
	AnsweredBy *AnsweredKnowledge `json:"answered_by,omitempty"`
	// Learned is what the resolution taught; only a resolve's response
	// has it.
	Learned *Learned `json:"learning,omitempty"`
	// Messages are the conversation's messages since the handoff (the
	// customer's further messages, agents' replies and notes); only the
	// detail view fills them.
	Messages []Message `json:"messages,omitempty"`
}

// QueueChange is a change to one of a workspace's escalations, as agents'
// live queues hear of it.
type QueueChange struct {
	EscalationID string
	Change       string // a Change* value
}

// Queue changes: the escalation's new status, or a new message in its
// conversation (the customer's, an agent's reply or note).
const (
	ChangeCreated  = "created"
	ChangeClaimed  = "claimed"
	ChangeResolved = "resolved"
	ChangeMessage  = "message"
)

// QueueFeed is one subscription to a workspace's queue changes.
type QueueFeed interface {
	// Wake receives a (coalesced) wake-up when changes are waiting.
	Wake() <-chan struct{}
	// Changes takes the waiting changes, oldest first, each once. missed
	// reports that some may have been lost since the last call (too many
	// waited, or notifications were interrupted): read the whole queue
	// again.
	Changes() (changes []QueueChange, missed bool)
}

// AgentMessage is what an agent sends into a conversation handed to a
// person: a reply to the customer, or an internal note, and optionally the
// resolution of the handoff (Text may then be empty).
type AgentMessage struct {
	ConversationID string
	AgentID        string
	Text           string
	Internal       bool
	Resolve        bool
	// AnsweredBy names the knowledge the reply comes from (a suggestion
	// the agent sent, say), or none; stored with the message, and with a
	// resolution as for Resolution.AnsweredBy.
	AnsweredBy *AnsweredBy
}

// AgentPost is what an agent's message did: the message stored (nil for a
// resolution without text) and the escalation as it now is.
type AgentPost struct {
	Message    *Message   `json:"message,omitempty"`
	Escalation Escalation `json:"escalation"`
	State      string     `json:"state"`
}

// Feedback is a customer's verdict on one bot answer.
type Feedback struct {
	ConversationID string
	MessageID      int64
	Helpful        bool
}

// EscalationContext is the packet an agent gets.
type EscalationContext struct {
	Question   string          `json:"question"`
	Language   string          `json:"language"`
	Customer   Customer        `json:"customer"`
	Channel    string          `json:"channel,omitempty"`
	Transcript []Message       `json:"transcript"`
	Candidates json.RawMessage `json:"candidates"` // ranked answers with scores and sources
	Confidence float64         `json:"confidence"`
	Draft      string          `json:"draft,omitempty"`
	Explain    string          `json:"explain"` // why it escalated, for a person
	Summary    string          `json:"summary,omitempty"`
}

// NewEscalation is what the reply engine asks the store to record: the
// escalation and the message the customer is shown, in one transaction.
type NewEscalation struct {
	WorkspaceID    string
	ConversationID string
	Reason         string
	Intent         string   // of the best candidate, for routing
	Tags           []string // of the best candidate, for routing
	Context        EscalationContext
	CustomerNotice string // the bot message telling the customer a human will reply
}

// Unresolved is the EscalationFilter status that selects open and claimed
// escalations: an agents' queue.
const Unresolved = "unresolved"

// EscalationFilter selects a page of escalations, oldest first.
type EscalationFilter struct {
	Status string // open, claimed, resolved or unresolved (open and claimed); empty for all
	Team   string // a team's name or id; empty for all
	After  string // the cursor of the previous page; empty for the first
	Limit  int
}

// Turn is one message of a resolved conversation, as `parley ingest --kind
// conversation` reads it.
type Turn struct {
	Role string    `json:"role"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// ResolvedConversation is a conversation an agent resolved, in the format
// of the resolved-conversation loader: its customer, bot and agent
// messages, the resolution, and the intent and tags of the knowledge the
// agent said answered (empty when they named none).
type ResolvedConversation struct {
	ID         string    `json:"id"`
	Messages   []Turn    `json:"messages"`
	Resolution string    `json:"resolution"`
	Intent     string    `json:"intent"`
	Tags       []string  `json:"tags"`
	Language   string    `json:"language"`
	ResolvedAt time.Time `json:"-"`
	// Customer is who the conversation was with, and Knowledge the texts
	// of the answer the agent named: what masking the export needs.
	Customer  Customer `json:"-"`
	Knowledge string   `json:"-"`
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsID reports whether s has the form of a Parley id (a UUID). Lookups of
// anything else are answered "not found" without asking the database.
func IsID(s string) bool { return uuidPattern.MatchString(s) }
