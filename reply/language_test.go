package reply_test

import (
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
