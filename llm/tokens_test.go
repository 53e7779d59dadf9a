package llm_test

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/llm"
)

func newTokenizer(t testing.TB) *llm.Tokenizer {
	t.Helper()
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatalf("NewTokenizer: %v", err)
	}
	return tok
}

func TestCount(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"How do I reset my password?", 7},
		{"hello", 1},
		{"<|endoftext|>", 7}, // special markers count as ordinary text
	}
	for _, tt := range tests {
		if got := tok.Count(tt.text); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	long := strings.Repeat("Refunds are paid back to the original card within five days. ", 40)
	tests := []struct {
		name string
		text string
		max  int
		want string // "" means: only check the invariants
	}{
		{"fits", "How do I reset my password?", 7, "How do I reset my password?"},
		{"cut", "How do I reset my password?", 3, "How do I"},
		{"zero", "How do I reset my password?", 0, ""},
		{"negative", "abc", -1, ""},
		{"empty", "", 10, ""},
		{"long", long, 50, ""},
		{"emoji", strings.Repeat("🧑‍🚀👩🏽‍💻", 30), 17, ""},
		{"cjk", strings.Repeat("退款会在五个工作日内退回原卡。", 20), 23, ""},
		{"invalid utf8", "abc\xff\xfe def ghi", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tok.Truncate(tt.text, tt.max)
			if tt.want != "" && got != tt.want {
				t.Errorf("Truncate = %q, want %q", got, tt.want)
			}
			if n := tok.Count(got); n > max(tt.max, 0) {
				t.Errorf("Count(Truncate) = %d, want <= %d", n, tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Truncate returned invalid UTF-8 %q", got)
			}
			if utf8.ValidString(tt.text) && !strings.HasPrefix(tt.text, got) {
				t.Errorf("Truncate = %q, not a prefix of the input", got)
			}
			if tt.max > 0 && tok.Count(tt.text) > tt.max && tok.Count(got) < tt.max-4 {
				t.Errorf("Truncate kept %d tokens, want close to %d", tok.Count(got), tt.max)
			}
		})
	}
}

func TestTokenizerConcurrent(t *testing.T) {
	t.Parallel()
	texts := []string{
		"How do I reset my password?",
		"Where is my parcel? It was due on Monday.",
		strings.Repeat("Billing and refunds. ", 50),
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tok := newTokenizer(t) // each goroutine may build its own; they share one encoder
			for j := range 50 {
				text := texts[(i+j)%len(texts)]
				if tok.Count(text) == 0 {
					t.Errorf("Count(%q) = 0", text)
				}
				if got := tok.Truncate(text, 5); tok.Count(got) > 5 {
					t.Errorf("Truncate over budget: %q", got)
				}
			}
		})
	}
	wg.Wait()
}

func FuzzTruncate(f *testing.F) {
	tok := newTokenizer(f)
	f.Add("How do I reset my password?", 3)
	f.Add("🧑‍🚀 a\n\n  b", 2)
	f.Fuzz(func(t *testing.T, text string, max int) {
		max %= 64
		got := tok.Truncate(text, max)
		if n := tok.Count(got); n > max && !(max <= 0 && n == 0) {
			t.Fatalf("Count(Truncate(%q, %d)) = %d", text, max, n)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
	})
}
