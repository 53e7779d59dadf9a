package parley

import (
	"encoding/json"
	"net/url"
	"time"
)

// MaxWebhookURL caps the length of a webhook URL, in bytes.
const MaxWebhookURL = 2048

// ParseWebhookURL checks that raw can be a webhook's URL: an absolute
// http:// or https:// URL with a host, without user:password@ and without a
// #fragment, at most MaxWebhookURL bytes. Which addresses it may reach is
// not its business: see webhook.DestinationPolicy.
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return nil, Errorf(EInvalid, "url is required")
	case len(raw) > MaxWebhookURL:
		return nil, Errorf(EInvalid, "url is longer than %d bytes", MaxWebhookURL)
	case err == nil && u.User != nil: // checked first: the message must not repeat a password
		return nil, Errorf(EInvalid, "url must not contain a user name or password: receivers authenticate requests by their signature")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Fragment != "":
		return nil, Errorf(EInvalid, "url %q must be an absolute http:// or https:// URL without a #fragment", raw)
	}
	return u, nil
}

// Webhook is where a workspace's events are sent. The secret that signs
// them is never returned after it is set; SecretPrefix helps tell secrets
// apart.
type Webhook struct {
	URL          string    `json:"url"`
	SecretPrefix string    `json:"secret_prefix"`
	Pending      int       `json:"pending"` // events waiting to be delivered
	Dead         int       `json:"dead"`    // events given up on
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Delivery is one attempt at sending an outbox event, with the webhook's
// URL and secret as they are when it is claimed.
type Delivery struct {
	ID          int64
	WorkspaceID string
	EventID     string
	EventType   string
	Payload     json.RawMessage
	CreatedAt   time.Time
	// Attempt counts this attempt (1 for the first). It is also the claim's
	// fencing token: a worker whose lease ran out, and whose row another
	// worker then claimed, can no longer change the row.
	Attempt int
	URL     string
	Secret  string
}

// DeliveryClaim says which due outbox events a delivery worker takes.
type DeliveryClaim struct {
	Limit int           // most events
	Lease time.Duration // how long they are the worker's
	// PerWorkspace bounds the events of one workspace (0: no bound), and
	// Room lowers it for workspaces with events in flight already: how
	// many more each may take (0: none, as for a paused one).
	PerWorkspace int
	Room         map[string]int
}
