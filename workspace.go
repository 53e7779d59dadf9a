package parley

import (
	"net/url"
	"regexp"
	"slices"
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
	// SmallTalk replaces the bot's replies to greetings, thanks and
	// goodbyes: language → kind (greeting, thanks, goodbye) → reply.
	SmallTalk map[string]map[string]string `json:"small_talk,omitempty"`
	// Greeting is the chat widget's opening line; empty shows none.
	Greeting string `json:"greeting"`
	// Theme is the chat widget's look.
	Theme Theme `json:"theme"`
	// Learning is what a resolution naming the knowledge that answered
	// does with the customer's question: LearnAuto, LearnReview or
	// LearnOff.
	Learning string `json:"learning"`
}

// Theme is the chat widget's look.
type Theme struct {
	Color string `json:"color"` // #rgb or #rrggbb; empty for the widget's default
}

// PublicSettings are the settings a publishable widget key may read: no
// thresholds, sensitive topics or glossary.
type PublicSettings struct {
	Name      string   `json:"name"`
	Languages []string `json:"languages"`
	Greeting  string   `json:"greeting"`
	Theme     Theme    `json:"theme"`
}

// Public returns the public subset of a workspace's settings.
func (w Workspace) Public() PublicSettings {
	return PublicSettings{Name: w.Name, Languages: w.Settings.Languages, Greeting: w.Settings.Greeting, Theme: w.Settings.Theme}
}

var themeColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// smallTalkKinds are the keys of a small_talk language's replies.
var smallTalkKinds = map[string]bool{"greeting": true, "thanks": true, "goodbye": true}

// validateWidget checks the settings the widget and small talk use.
func (s WorkspaceSettings) validateWidget() error {
	if s.Theme.Color != "" && !themeColor.MatchString(s.Theme.Color) {
		return Errorf(EInvalid, "theme.color must look like #0b5fff, got %q", s.Theme.Color)
	}
	if n := len([]rune(s.Greeting)); n > 500 {
		return Errorf(EInvalid, "greeting has %d characters; the limit is 500", n)
	}
	for lang, replies := range s.SmallTalk {
		for kind, reply := range replies {
			if !smallTalkKinds[kind] {
				return Errorf(EInvalid, "small_talk.%s.%s: the kinds are greeting, thanks and goodbye", lang, kind)
			}
			if n := len([]rune(reply)); n > 500 {
				return Errorf(EInvalid, "small_talk.%s.%s has %d characters; the limit is 500", lang, kind, n)
			}
		}
	}
	return nil
}

// DefaultSettings are the settings of a new workspace.
func DefaultSettings() WorkspaceSettings {
	return WorkspaceSettings{
		AnswerThreshold: 0.5,
		Languages:       []string{"en"},
		Sensitive:       []string{},
		DefaultTeam:     "support",
		Glossary:        []string{},
		Learning:        LearnReview,
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
	switch s.Learning {
	case LearnAuto, LearnReview, LearnOff:
	default:
		return Errorf(EInvalid, "learning must be auto, review or off, got %q", s.Learning)
	}
	if len(s.Glossary) > MaxGlossaryTerms {
		return Errorf(EInvalid, "glossary has %d terms; the limit is %d", len(s.Glossary), MaxGlossaryTerms)
	}
	for _, term := range s.Glossary {
		if n := len([]rune(strings.TrimSpace(term))); n == 0 || n > 100 {
			return Errorf(EInvalid, "glossary terms must have 1-100 characters, got %q", term)
		}
	}
	return s.validateWidget()
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
	// AllowedOrigins are the web origins a publishable widget key may be
	// used from (none: not usable from a browser).
	AllowedOrigins []string `json:"allowed_origins"`
}

// Principal is who is calling: the key's workspace, read with the key so
// that handlers need not read it again, and role.
type Principal struct {
	Workspace Workspace
	KeyID     string
	Role      Role
	// AllowedOrigins makes a widget key publishable: browsers on these
	// origins may use it, through the widget routes only.
	AllowedOrigins []string
}

// Publishable reports whether the caller's key is a publishable widget
// key, the kind a web page shows to everyone.
func (p Principal) Publishable() bool { return p.Role == RoleWidget && len(p.AllowedOrigins) > 0 }

// MaxOrigins caps a widget key's allowed origins.
const MaxOrigins = 50

// CheckOrigins validates and normalises web origins: scheme http or https
// and a host, with an optional port, nothing else ("https://shop.example",
// "http://localhost:3000"). It returns them lower-cased, without
// duplicates.
func CheckOrigins(origins []string) ([]string, error) {
	if len(origins) > MaxOrigins {
		return nil, Errorf(EInvalid, "allowed_origins has %d entries; the limit is %d", len(origins), MaxOrigins)
	}
	out := []string{}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, " *") {
			return nil, Errorf(EInvalid, "allowed origin %q must be a scheme and host like https://shop.example (a port may follow; no path, no wildcard)", o)
		}
		norm := strings.ToLower(u.Scheme + "://" + u.Host)
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, nil
}
