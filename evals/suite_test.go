package evals_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/evals"
)

// A suite's languages are its settings' (whose models eval and bench load
// before the cases run), or the default's when it names none.
func TestSuiteLanguages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		suite string
		want  []string
	}{
		{"brizo", []string{"en", "fr", "it"}},
		{"banking77", []string{"en"}},
	} {
		suite, err := evals.LoadSuite("suites/" + tt.suite + "/suite.json")
		if err != nil {
			t.Fatal(err)
		}
		if got := suite.Languages(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Languages() = %v, want %v", tt.suite, got, tt.want)
		}
	}
}
