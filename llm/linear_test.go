package llm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// adversarial returns texts of about n bytes that once made token counting
// quadratic: runs the tokenizer's pattern cannot split.
func adversarial(n int) map[string]string {
	fill := func(unit string) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	return map[string]string{
		"one letter": fill("q"),
		"no spaces":  fill("refundsarepaidbacktotheoriginalcard"),
		"long urls":  fill("https://example.com/a/very/long/path?with=query&and=more%20escapes#frag/"),
		"spaces":     fill(" "),
		"emoji":      fill("🧑‍🚀👩🏽‍💻"),
		"cjk":        fill("退款会在五个工作日内退回原卡"),
	}
}

// TestCountLinear checks that the time per byte of Count stays flat from
// 1 KB to 32 KB of adversarial text (quadratic merging made 32 KB of one
// letter take 0.9 s, 256 KB a minute), and that Truncate reads only what
// its budget covers, even of 1 MB. The fault suite (make test-faults)
// measures the same from 1 KB to 1 MB. Under the race detector, whose
// slowdown makes per-byte timings say little and take minutes, only the
// Truncate bound is checked (make test-faults runs without it).
func TestCountLinear(t *testing.T) {
	tok := newTokenizer(t)
	// perByte counts text reps times, so that short and long texts are
	// compared over the same number of bytes (and the same garbage).
	perByte := func(text string, reps int) time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			for range reps {
				tok.Count(text)
			}
			best = min(best, time.Since(start))
		}
		return best / time.Duration(reps*len(text))
	}
	small, large, huge := adversarial(1<<10), adversarial(32<<10), adversarial(1<<20)
	for name, text := range large {
		start := time.Now()
		if out := tok.Truncate(huge[name], 300); tok.Count(out) > 300 {
			t.Errorf("%s: Truncate kept %d tokens, want <= 300", name, tok.Count(out))
		}
		if d := time.Since(start); d > raceSlowdown*time.Second {
			t.Errorf("%s: Truncate(1 MB, 300) took %v, want it to read only what 300 tokens cover", name, d)
		}
		if raceSlowdown > 1 {
			continue
		}
		// The machine is shared and timings are noisy: allow a wide
		// margin; quadratic growth is 32×.
		base, got := perByte(small[name], 32), perByte(text, 1)
		t.Logf("%-10s %6.0f ns/byte at 1 KB, %6.0f ns/byte at 32 KB", name, float64(base), float64(got))
		if got > 8*base {
			t.Errorf("%s: Count takes %v per byte at 32 KB, %v at 1 KB: not linear", name, got, base)
		}
	}
}

// TestCountExact checks that segmented counting gives tiktoken's own count
// for ordinary text long enough to be cut into segments.
func TestCountExact(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	enc, err := tiktoken.GetEncoding("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		strings.Repeat("Refunds are paid back to the original card within five days.\n\n", 100),
		strings.Repeat("Rückerstattungen\tgehen  innerhalb von 5 Tagen zurück! See https://example.com/help ", 100),
		strings.Repeat("退款会在五个工作日内退回原卡。 Ça marche, n'est-ce pas ?  \r\n", 100),
		strings.Repeat("x = f(y)  // it's   'quoted'\t\t42,000.5 ", 150),
	}
	for _, text := range texts {
		if got, want := tok.Count(text), len(enc.EncodeOrdinary(text)); got != want {
			t.Errorf("Count = %d, tiktoken = %d for %.40q...", got, want, text)
		}
	}
}
