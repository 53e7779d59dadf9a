package parley

import "time"

// Team is a group of agents that escalations are routed to.
type Team struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Agents       int       `json:"agents"`
	ActiveAgents int       `json:"active_agents"`
	CreatedAt    time.Time `json:"created_at"`
}

// Agent is a person who claims and resolves escalations. Escalations routed
// to a team are assigned round-robin to its active agents.
type Agent struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Team           string     `json:"team"`
	Skills         []string   `json:"skills"`
	Active         bool       `json:"active"`
	LastAssignedAt *time.Time `json:"last_assigned_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// NewAgent is an agent to create; Team is the team's name (or id). Active
// defaults to true.
type NewAgent struct {
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Team   string   `json:"team"`
	Skills []string `json:"skills"`
	Active *bool    `json:"active"`
}

// AgentPatch changes an agent; nil fields keep their values.
type AgentPatch struct {
	Name   *string   `json:"name"`
	Email  *string   `json:"email"`
	Team   *string   `json:"team"`
	Skills *[]string `json:"skills"`
	Active *bool     `json:"active"`
}

// RoutingRule sends escalations whose best candidate has an intent or a tag
// to a team. Rules are tried by priority, highest first, then oldest first.
type RoutingRule struct {
	ID          string    `json:"id"`
	MatchIntent string    `json:"match_intent,omitempty"`
	MatchTag    string    `json:"match_tag,omitempty"`
	Team        string    `json:"team"`
	Priority    int       `json:"priority"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewRoutingRule is a rule to create: exactly one of MatchIntent and
// MatchTag, and the team's name (or id).
type NewRoutingRule struct {
	MatchIntent string `json:"match_intent"`
	MatchTag    string `json:"match_tag"`
	Team        string `json:"team"`
	Priority    int    `json:"priority"`
}
