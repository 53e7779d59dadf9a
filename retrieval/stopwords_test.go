package retrieval_test

import (
	"testing"

	"github.com/parleyhq/parley/retrieval"
)

func TestIsStopWord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		word string
		want bool
	}{
		// Snowball lists.
		{"the", true}, {"would", true}, {"pour", true}, {"para", true}, {"ikke", true}, {"och", true},
		// The hand list: English and French fillers, the languages Snowball has no list for.
		{"anything", true}, {"please", true}, {"pourquoi", true}, {"warum", true}, {"können", true},
		{"quando", true}, {"perché", true}, {"waarom", true}, {"também", true},
		// Content words, in each language.
		{"invoice", false}, {"remboursement", false}, {"factura", false}, {"rechnung", false},
		{"fattura", false}, {"bestelling", false}, {"encomenda", false}, {"delivery", false},
		// Lower case, accents as written: the caller normalises case, not accents.
		{"Warum", false}, {"perche", false},
	} {
		if got := retrieval.IsStopWord(tt.word); got != tt.want {
			t.Errorf("IsStopWord(%q) = %v, want %v", tt.word, got, tt.want)
		}
	}
}
