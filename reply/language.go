package reply

import (
	"strings"

	"github.com/pemistahl/lingua-go"
)

// detectable are the languages the detector chooses among.
var detectable = []lingua.Language{
	lingua.English, lingua.German, lingua.French, lingua.Spanish, lingua.Italian,
	lingua.Dutch, lingua.Portuguese, lingua.Swedish, lingua.Danish, lingua.Polish,
}

// LanguageDetector tells which language a customer writes in.
type LanguageDetector struct {
	lingua lingua.LanguageDetector
}

// NewLanguageDetector loads the language models (about a second).
func NewLanguageDetector() *LanguageDetector {
	return &LanguageDetector{lingua: lingua.NewLanguageDetectorBuilder().
		FromLanguages(detectable...).
		WithMinimumRelativeDistance(0.05).
		WithPreloadedLanguageModels().
		Build()}
}

// Detect returns the ISO 639-1 code of text's language, or fallback when
// the text is too short to tell or the detector is unsure. A nil detector
// always returns fallback.
func (d *LanguageDetector) Detect(text, fallback string) string {
	if d == nil || len(strings.Fields(text)) < 3 {
		return fallback
	}
	lang, ok := d.lingua.DetectLanguageOf(text)
	if !ok {
		return fallback
	}
	return strings.ToLower(lang.IsoCode639_1().String())
}
