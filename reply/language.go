package reply

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pemistahl/lingua-go"
)

// detectable are the languages the detector chooses among, by ISO 639-1
// code.
var detectable = map[string]lingua.Language{
	"en": lingua.English, "de": lingua.German, "fr": lingua.French, "es": lingua.Spanish, "it": lingua.Italian,
	"nl": lingua.Dutch, "pt": lingua.Portuguese, "sv": lingua.Swedish, "da": lingua.Danish, "pl": lingua.Polish,
}

// allDetectable are detectable's codes, sorted.
var allDetectable = slices.Sorted(maps.Keys(detectable))

// LanguageDetector tells which language a customer writes in. It loads a
// language's models (lingua's 1- to 5-grams, about 20 MB of heap each,
// seconds of CPU) the first time a message may be in that language, once
// for all candidate sets, unless Load loaded them before.
type LanguageDetector struct {
	ready sync.Map   // sorted candidate codes joined by ",": lingua.LanguageDetector
	build sync.Mutex // one set is built at a time, so a language is loaded once
}

// NewLanguageDetector returns a detector that has loaded no models yet.
func NewLanguageDetector() *LanguageDetector { return &LanguageDetector{} }

// Load loads the models DetectAmong needs for langs (those the detector
// knows, and English) now rather than at their first message.
func (d *LanguageDetector) Load(langs []string) {
	if set := known(append([]string{"en"}, langs...)); d != nil && len(set) > 1 {
		d.among(set)
	}
}

// LoadAll loads the models of every language the detector knows now
// rather than at their first message (about 200 MB of heap).
func (d *LanguageDetector) LoadAll() {
	if d != nil {
		d.among(allDetectable)
	}
}

// Detect returns the ISO 639-1 code of text's language among all the
// languages the detector knows, or fallback when the text is too short to
// tell or the detector is unsure. A nil detector always returns fallback.
// Use it for text that may be in a language the workspace does not serve
// (an agent translating a customer's message); DetectAmong is cheaper.
func (d *LanguageDetector) Detect(text, fallback string) string {
	return d.detect(text, fallback, allDetectable)
}

// DetectAmong is Detect with the candidates narrowed to langs (the
// workspace's languages), English and fallback (the customer's stated
// language, say): a message is taken to be in one of those. When they
// come to one language, which is fallback, nothing is computed.
func (d *LanguageDetector) DetectAmong(text, fallback string, langs []string) string {
	set := known(append([]string{"en", fallback}, langs...))
	if len(set) == 1 { // English alone
		if known([]string{fallback}) == nil {
			// fallback is a language the detector does not know: only
			// all the others tell a message in English from one in it.
			return d.detect(text, fallback, allDetectable)
		}
		return fallback
	}
	return d.detect(text, fallback, set)
}

func (d *LanguageDetector) detect(text, fallback string, set []string) string {
	if d == nil || len(strings.Fields(text)) < 3 {
		return fallback
	}
	lang, ok := d.among(set).DetectLanguageOf(text)
	if !ok {
		return fallback
	}
	return strings.ToLower(lang.IsoCode639_1().String())
}

// among returns the lingua detector choosing among set (sorted, two codes
// or more), building it and loading its models on first use.
func (d *LanguageDetector) among(set []string) lingua.LanguageDetector {
	key := strings.Join(set, ",")
	if det, ok := d.ready.Load(key); ok {
		return det.(lingua.LanguageDetector)
	}
	d.build.Lock()
	defer d.build.Unlock()
	if det, ok := d.ready.Load(key); ok {
		return det.(lingua.LanguageDetector)
	}
	langs := make([]lingua.Language, len(set))
	for i, code := range set {
		langs[i] = detectable[code]
	}
	det := lingua.NewLanguageDetectorBuilder().
		FromLanguages(langs...).
		WithMinimumRelativeDistance(0.05).
		WithPreloadedLanguageModels().
		Build()
	d.ready.Store(key, det)
	return det
}

// known returns the codes of langs the detector knows, sorted, each once.
// A code with a region ("pt-BR") counts as its language.
func known(langs []string) []string {
	var set []string
	for _, l := range langs {
		base, _, _ := strings.Cut(strings.ToLower(l), "-")
		if _, ok := detectable[base]; ok && !slices.Contains(set, base) {
			set = append(set, base)
		}
	}
	slices.Sort(set)
	return set
}
