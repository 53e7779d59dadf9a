package retrieval_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/retrieval"
)

func TestCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []string
	}{
		{"My display shows error E-07, and e07 again", []string{"E07"}},
		{"Fehlercode E-11 im Display, was tun?", []string{"E11"}},
		{"I'm looking for part VT-2231 (or vt2231)", []string{"VT2231"}},
		{"Where is order VO-482913?", []string{"VO482913"}},
		{"I'm 183cm, the battery is 625Wh, 60 km, 2nd time, 2023", nil},
		{"¿Qué significa el error E-04?", []string{"E04"}},
	}
	for _, tt := range tests {
		if got := retrieval.Codes(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Codes(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestMissingCode(t *testing.T) {
	t.Parallel()
	e07 := "Error E-07 means the speed sensor gets no signal."
	plans := "Brizo S (plan code BZ-S10) with 10 GB, Brizo M (BZ-M40) with 40 GB and Brizo XL (BZ-X150) with 150 GB."
	tests := []struct {
		question, answer, want string
	}{
		{"error E-09 on my display", e07, "E09"},
		{"Me sale el error E-09 en la pantalla", e07, "E09"},
		{"what does E07 mean?", e07, ""},
		{"Do you have part VT-9999?", "Search by the part number, for example VT-2231.", "VT9999"},
		// A generic answer names no code of the kind: no contradiction.
		{"Where is my order VO-123456?", "We email you a tracking link when your order ships.", ""},
		{"How long does delivery take?", e07, ""},
		// Plan codes of one family differ after the family's letters.
		{"I'd like the BZ-L80 plan, how many GB does it have?", plans, "BZL80"},
		{"Quanto costa l'offerta BZ-L80?", plans, "BZL80"},
		{"How much does the BZM60 plan cost?", plans, "BZM60"},
		{"How many GB does BZ-M40 include?", plans, ""},
		{"Combien coûte le forfait bz-m40 ?", plans, ""},
	}
	for _, tt := range tests {
		if got := retrieval.MissingCode(tt.question, tt.answer); got != tt.want {
			t.Errorf("MissingCode(%q, %q) = %q, want %q", tt.question, tt.answer, got, tt.want)
		}
	}
}
