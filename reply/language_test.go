package reply_test

import (
	"os"
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
	raw, err := os.ReadFile("testdata/short_messages.tsv")
	if err != nil {
		t.Fatal(err)
	}
	d := reply.NewLanguageDetector()
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		code, text, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if got := d.Detect(text, "?"); got != code {
			t.Errorf("Detect(%q) = %s, want %s", text, got, code)
		}
	}
	if n != 80 {
		t.Fatalf("read %d messages, want 80", n)
	}
}
