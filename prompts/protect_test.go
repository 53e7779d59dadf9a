package prompts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/prompts"
)

func TestProtect(t *testing.T) {
	t.Parallel()
	all := prompts.ProtectOptions{Numbers: true, Markdown: true, Glossary: []string{"Parley Cloud", "C++", "Bramble Club"}}
	tests := []struct {
		name string
		in   string
		opts prompts.ProtectOptions
		want string
	}{
		{"placeholders", "Hi {{ name }}, %s and %1$d and {0} and ${user} and {}", prompts.ProtectOptions{},
			"Hi ⟦0⟧, ⟦1⟧ and ⟦2⟧ and ⟦3⟧ and ⟦4⟧ and ⟦5⟧"},
		{"percent signs that are not verbs", "50% off, 100% sure", prompts.ProtectOptions{}, "50% off, 100% sure"},
		{"urls and e-mail", "See https://ex.com/a?b=1&c=2. Or write to help@ex.com!", prompts.ProtectOptions{},
			"See ⟦0⟧. Or write to ⟦1⟧!"},
		{"code", "Run `parley serve` or:\n```\nmake demo\n```", prompts.ProtectOptions{}, "Run ⟦0⟧ or:\n⟦1⟧"},
		{"numbers", "Order 4512 costs 1,299.99 EUR on 2026-01-05 at 10:30", prompts.ProtectOptions{Numbers: true},
			"Order ⟦0⟧ costs ⟦1⟧ EUR on ⟦2⟧ at ⟦3⟧"},
		{"markdown", "# Returns\n- **Free** returns\n1. See [our policy](https://ex.com/returns)", prompts.ProtectOptions{Markdown: true},
			"⟦0⟧Returns\n⟦1⟧⟦2⟧Free⟦3⟧ returns\n⟦4⟧See ⟦5⟧our policy⟦6⟧"},
		{"glossary: whole words, any case", "parley cloud and Bramble Club; C++ but not Bramble Clubs", all,
			"⟦0⟧ and ⟦1⟧; ⟦2⟧ but not Bramble Clubs"},
		{"existing marker-like text", "keep ⟦7⟧ as is", prompts.ProtectOptions{}, "keep ⟦0⟧ as is"},
		{"html", "Click <a href=\"x\">here</a>", prompts.ProtectOptions{}, "Click ⟦0⟧here⟦1⟧"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prompts.Protect(tt.in, tt.opts)
			if p.Text != tt.want {
				t.Fatalf("Protect(%q) = %q, want %q", tt.in, p.Text, tt.want)
			}
			back, err := p.Restore(p.Text)
			if err != nil || back != tt.in {
				t.Fatalf("Restore = %q, %v; want the input back", back, err)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	p := prompts.Protect("Hi {{name}}, see https://ex.com/x", prompts.ProtectOptions{})
	tests := []struct {
		name, out, want string
		missing         int
		unexpected      int
	}{
		{"reordered and spaced", "Siehe ⟦ 1 ⟧, Hallo ⟦0⟧", "Siehe https://ex.com/x, Hallo {{name}}", 0, 0},
		{"dropped", "Hallo ⟦0⟧", "", 1, 0},
		{"repeated", "Hallo ⟦0⟧ ⟦0⟧ ⟦1⟧", "", 1, 0},
		{"made up", "Hallo ⟦0⟧ ⟦1⟧ ⟦9⟧", "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Restore(tt.out)
			var me *prompts.MarkerError
			if tt.missing+tt.unexpected == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("Restore = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.As(err, &me) || len(me.Missing) != tt.missing || len(me.Unexpected) != tt.unexpected || got != "" {
				t.Fatalf("Restore = %q, %v; want a MarkerError", got, err)
			}
			if tt.missing > 0 && !strings.Contains(err.Error(), "lost or repeated") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestHasWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"https://ex.com 42": false, "{{name}}!": false, "Hi {{name}}": true} {
		if got := prompts.Protect(in, prompts.ProtectOptions{Numbers: true}).HasWords(); got != want {
			t.Errorf("HasWords(%q) = %v", in, got)
		}
	}
}
