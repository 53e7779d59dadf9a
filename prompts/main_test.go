package prompts_test

import (
	"testing"

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
