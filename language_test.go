package parley_test

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestValidLanguage(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"en": true, "de": true, "pt-BR": true, "zh-Hant": true, "nb": true,
		"": false, "klingon": false, "xx": false, "EN": false, "en-": false, "en-US-x": false,
		"e": false, "eng": false, "en\x00": false, "../x": false,
	} {
		if got := parley.ValidLanguage(code); got != want {
			t.Errorf("ValidLanguage(%q) = %t, want %t", code, got, want)
		}
	}
}
