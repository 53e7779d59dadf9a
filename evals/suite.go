// Package evals runs offline evaluation suites through the reply engine and
// reports answer precision, coverage, escalation and retrieval quality, and
// the confidence threshold that reaches a target precision.
package evals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/parleyhq/parley"
)

// Suite is a manifest: the knowledge to load, the cases, optional settings
// and gates. Relative paths are resolved against the manifest's folder.
type Suite struct {
	Name        string          `json:"name" yaml:"name"`
	Description string          `json:"description,omitempty" yaml:"description"`
	Knowledge   []KnowledgeSpec `json:"knowledge" yaml:"knowledge"`
	Cases       CasesSpec       `json:"cases" yaml:"cases"`
	Settings    *SettingsSpec   `json:"settings,omitempty" yaml:"settings"`
	Gates       Gates           `json:"gates,omitempty" yaml:"gates"`

	dir string // the manifest's folder
}

// KnowledgeSpec is one path to ingest, as `parley ingest` takes it.
type KnowledgeSpec struct {
	Path    string            `json:"path" yaml:"path"`
	Kind    string            `json:"kind,omitempty" yaml:"kind"`
	Format  string            `json:"format,omitempty" yaml:"format"`
	Columns map[string]string `json:"columns,omitempty" yaml:"columns"`
}

// CasesSpec says where the cases are and how to read them.
type CasesSpec struct {
	Path string `json:"path" yaml:"path"`
	// Columns maps case fields (id, query, intent, source_ids, escalate,
	// reason) to CSV columns or JSON keys.
	Columns map[string]string `json:"columns,omitempty" yaml:"columns"`
	// EscalateLabel is the intent label that means "must escalate" (e.g.
	// "oos" in public intent datasets).
	EscalateLabel string `json:"escalate_label,omitempty" yaml:"escalate_label"`
}

// SettingsSpec overrides workspace settings for the run; unset fields keep
// the defaults.
type SettingsSpec struct {
	AnswerThreshold *float64 `json:"answer_threshold,omitempty" yaml:"answer_threshold"`
	Sensitive       []string `json:"sensitive,omitempty" yaml:"sensitive"`
	Languages       []string `json:"languages,omitempty" yaml:"languages"`
	// GenerateAnswers has answers written by the chat model, when one is
	// configured (PARLEY_LLM_*), as in a workspace with generate_answers on.
	GenerateAnswers *bool `json:"generate_answers,omitempty" yaml:"generate_answers"`
}

// Gates fail the run when a figure is below its minimum.
type Gates struct {
	MinPrecision        *float64 `json:"min_precision,omitempty" yaml:"min_precision"`
	MinCoverage         *float64 `json:"min_coverage,omitempty" yaml:"min_coverage"`
	MinEscalationRecall *float64 `json:"min_escalation_recall,omitempty" yaml:"min_escalation_recall"`
	MinHitAt1           *float64 `json:"min_hit_at_1,omitempty" yaml:"min_hit_at_1"`
}

// LoadSuite reads a manifest (.json, .yaml or .yml).
func LoadSuite(path string) (*Suite, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read suite: %w", err)
	}
	var s Suite
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		err = yaml.UnmarshalWithOptions(raw, &s, yaml.Strict())
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(&s)
	default:
		return nil, parley.Errorf(parley.EInvalid, "suite %s: use a .json, .yaml or .yml manifest", path)
	}
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "suite %s: %v", path, err)
	}
	s.dir = filepath.Dir(path)
	if err := s.validate(path); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Suite) validate(path string) error {
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if len(s.Knowledge) == 0 {
		return parley.Errorf(parley.EInvalid, "suite %s: \"knowledge\" names no paths", path)
	}
	for i, k := range s.Knowledge {
		if k.Path == "" {
			return parley.Errorf(parley.EInvalid, "suite %s: knowledge[%d] has no path", path, i)
		}
	}
	if s.Cases.Path == "" {
		return parley.Errorf(parley.EInvalid, "suite %s: \"cases\" has no path", path)
	}
	return nil
}

// resolve returns p relative to the manifest's folder.
func (s *Suite) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}

// apply returns settings with the suite's overrides applied.
func (s *Suite) apply(base parley.WorkspaceSettings) parley.WorkspaceSettings {
	if s.Settings == nil {
		return base
	}
	if s.Settings.AnswerThreshold != nil {
		base.AnswerThreshold = *s.Settings.AnswerThreshold
	}
	if s.Settings.Sensitive != nil {
		base.Sensitive = s.Settings.Sensitive
	}
	if s.Settings.Languages != nil {
		base.Languages = s.Settings.Languages
	}
	if s.Settings.GenerateAnswers != nil {
		base.GenerateAnswers = *s.Settings.GenerateAnswers
	}
	return base
}

// Languages are the languages the suite's workspace serves.
func (s *Suite) Languages() []string { return s.apply(parley.DefaultSettings()).Languages }

// Workspace is the suite's own workspace name: eval-NAME.
func (s *Suite) Workspace() string {
	return "eval-" + strings.ToLower(nonName.ReplaceAllString(s.Name, "-"))
}

// LoadCases reads the suite's cases.
func (s *Suite) LoadCases() ([]Case, error) {
	return loadCases(s.resolve(s.Cases.Path), s.Cases)
}
