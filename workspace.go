package parley

import (
	"strings"
	"time"
)

// Workspace is one tenant: a business with its own knowledge, keys,
// conversations and settings. Every row in the store belongs to one.
type Workspace struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Settings  WorkspaceSettings `json:"settings"`
	CreatedAt time.Time         `json:"created_at"`
}

// WorkspaceSettings are the knobs a workspace admin can turn.
type WorkspaceSettings struct {
	// AnswerThreshold is the confidence at or above which the bot answers;
	// below it the conversation is escalated with a draft.
	AnswerThreshold float64 `json:"answer_threshold"`
	// Languages the workspace serves (ISO 639-1); the first is the default.
	Languages []string `json:"languages"`
	// Sensitive lists intents and tags that always go to a human.
	Sensitive []string `json:"sensitive"`
	// DefaultTeam receives escalations no routing rule matches.
	DefaultTeam string `json:"default_team"`
	// Glossary lists protected terms (product and brand names) that agent
	// assist keeps untranslated.
	Glossary []string `json:"glossary"`
	// GenerateAnswers has the chat model (when one is configured) write
	// answers from the retrieved sources instead of showing the stored
	// answer; a model failure escalates with reason model_error.
	GenerateAnswers bool `json:"generate_answers"`
}

// DefaultSettings are the settings of a new workspace.
func DefaultSettings() WorkspaceSettings {
	return WorkspaceSettings{
		AnswerThreshold: 0.5,
		Languages:       []string{"en"},
		Sensitive:       []string{},
		DefaultTeam:     "support",
		Glossary:        []string{},
	}
}

// DefaultLanguage is the workspace's first language, the one assumed when a
// customer's language is not known.
func (s WorkspaceSettings) DefaultLanguage() string {
	if len(s.Languages) == 0 {
		return "en"
	}
	return s.Languages[0]
}

// Validate reports the first setting that is out of range. The default
// team's name is checked by the store, which knows the teams.
func (s WorkspaceSettings) Validate() error {
	if s.AnswerThreshold < 0 || s.AnswerThreshold > 1 {
		return Errorf(EInvalid, "answer_threshold must be between 0 and 1, got %g", s.AnswerThreshold)
	}
	if len(s.Languages) == 0 {
		return Errorf(EInvalid, "languages must name at least one language")
	}
	for _, lang := range s.Languages {
		if err := CheckLanguage("languages:", lang); err != nil {
			return err
		}
	}
	if len(s.Glossary) > MaxGlossaryTerms {
		return Errorf(EInvalid, "glossary has %d terms; the limit is %d", len(s.Glossary), MaxGlossaryTerms)
	}
	for _, term := range s.Glossary {
		if n := len([]rune(strings.TrimSpace(term))); n == 0 || n > 100 {
			return Errorf(EInvalid, "glossary terms must have 1-100 characters, got %q", term)
		}
	}
	return nil
}

// MaxGlossaryTerms caps a workspace's glossary.
const MaxGlossaryTerms = 500

// Role says what an API key may do.
type Role string

const (
	// RoleWidget is for chat widgets: answer questions, nothing else.
	RoleWidget Role = "widget"
	// RoleAgent is for agent tools: everything a widget can do, plus
	// conversations, escalations and assist.
	RoleAgent Role = "agent"
	// RoleAdmin manages knowledge, settings, teams and keys.
	RoleAdmin Role = "admin"
)

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleWidget, RoleAgent, RoleAdmin:
		return r, nil
	}
	return "", Errorf(EInvalid, "unknown role %q: use widget, agent or admin", s)
}

// Allows reports whether a key with role r may act as role need. Roles are
// ordered: admin > agent > widget.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() }

func (r Role) rank() int {
	switch r {
	case RoleWidget:
		return 1
	case RoleAgent:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// APIKey is a stored key; the secret itself is shown once and only its hash
// is kept.
type APIKey struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	Workspace   string     `json:"workspace"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Principal is who is calling: the key's workspace, read with the key so
// that handlers need not read it again, and role.
type Principal struct {
	Workspace Workspace
	KeyID     string
	Role      Role
}
