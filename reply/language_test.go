package reply_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/reply"
)

// BenchmarkDetect times language detection of a typical customer question
// (BENCHMARKS.md: part of the engine's cost over the bare search).
func BenchmarkDetect(b *testing.B) {
	d := reply.NewLanguageDetector()
	b.ResetTimer()
	for b.Loop() {
		d.Detect("I am still waiting on my card to arrive, what should I do?", "en")
	}
}

// The detector tells the language of short customer messages in each
// language it knows (testdata/short_messages.tsv, 80 messages). Lingua's
// low-accuracy mode would need a twentieth of the memory, but it got one
// of these wrong and took 161 of Banking77's 3,077 English test questions
// for another language (BENCHMARKS.md, memory), so it is not used.
func TestDetectShortMessages(t *testing.T) {
	t.Parallel()
	d := reply.NewLanguageDetector()
	for _, m := range shortMessages(t) {
		if got := d.Detect(m.text, "?"); got != m.code {
			t.Errorf("Detect(%q) = %s, want %s", m.text, got, m.code)
		}
	}
}

type shortMessage struct{ code, text string }

// shortMessages reads testdata/short_messages.tsv.
func shortMessages(t *testing.T) []shortMessage {
	t.Helper()
	raw, err := os.ReadFile("testdata/short_messages.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []shortMessage
	for _, line := range strings.Split(string(raw), "\n") {
		code, text, ok := strings.Cut(line, "\t")
		if ok && !strings.HasPrefix(line, "#") {
			msgs = append(msgs, shortMessage{code, text})
		}
	}
	if len(msgs) != 80 {
		t.Fatalf("read %d messages, want 80", len(msgs))
	}
	return msgs
}

// Among a workspace's languages and English, the detector still tells
// each short message in one of them.
func TestDetectAmongShortMessages(t *testing.T) {
	t.Parallel()
	d := reply.NewLanguageDetector()
	for _, langs := range [][]string{{"en", "de", "fr", "es"}, {"it", "nl", "pt"}, {"sv", "da", "pl"}, {"de"}} {
		for _, m := range shortMessages(t) {
			if m.code != "en" && !slices.Contains(langs, m.code) {
				continue
			}
			if got := d.DetectAmong(m.text, langs[0], langs); got != m.code {
				t.Errorf("DetectAmong(%q, %v) = %s, want %s", m.text, langs, got, m.code)
			}
		}
	}
}

// A message is taken to be in one of the workspace's languages, English or
// the customer's stated language (the fallback): English with a word or
// a typo that looks Dutch is not Dutch in a workspace that does not serve
// Dutch (over all ten languages the first two are taken for Dutch).
func TestDetectAmongTheWorkspaceLanguages(t *testing.T) {
	t.Parallel()
	d := reply.NewLanguageDetector()
	for _, tt := range []struct {
		text, fallback string
		langs          []string
		want           string
	}{
		{"pls send me the factuur", "en", []string{"en", "fr", "it"}, "en"},
		{"what is the prijs of the plan", "en", []string{"en", "de", "es"}, "en"},
		{"Ma facture est plus chère ce mois-ci, pourquoi ?", "en", []string{"en", "fr", "it"}, "fr"},
		{"Wo ist mein Paket? Es sollte gestern ankommen.", "en", []string{"en", "de", "es"}, "de"},
		{"¿Dónde está mi pedido? Debía llegar ayer.", "de", []string{"de", "es"}, "es"},
		// English is always a candidate.
		{"Where is my parcel? It should have arrived yesterday.", "de", []string{"de"}, "en"},
		// An English-only workspace takes every message for English,
		// without computing anything.
		{"Wo ist mein Paket? Es sollte gestern ankommen.", "en", []string{"en"}, "en"},
		// The customer's stated language is a candidate.
		{"Gdzie jest moja paczka? Miała przyjść wczoraj.", "pl", []string{"en"}, "pl"},
		{"Where is my parcel? It should have arrived yesterday.", "pl", []string{"en"}, "en"},
		// A workspace language the detector does not know: all the others
		// tell English from it.
		{"Where is my parcel? It should have arrived yesterday.", "ja", []string{"ja"}, "en"},
		{"私の 荷物は どこ ですか", "ja", []string{"ja"}, "ja"},
	} {
		if got := d.DetectAmong(tt.text, tt.fallback, tt.langs); got != tt.want {
			t.Errorf("DetectAmong(%q, %s, %v) = %s, want %s", tt.text, tt.fallback, tt.langs, got, tt.want)
		}
	}
}
