package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/llm"
)

// load reads content as an upload called name.
func load(t testing.TB, name, content string, opts ingest.LoadOptions) ([]ingest.Document, ingest.LoadReport, error) {
	t.Helper()
	return ingest.LoadReader(context.Background(), strings.NewReader(content), name, opts)
}

// wantInputError checks that err is an *ingest.InputError whose message
// contains every part of want.
func wantInputError(t testing.TB, err error, want ...string) *ingest.InputError {
	t.Helper()
	var ie *ingest.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want an *ingest.InputError", err, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err.Error(), w)
		}
	}
	return ie
}

func tokenizer(t testing.TB) *llm.Tokenizer {
	t.Helper()
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatalf("NewTokenizer: %v", err)
	}
	return tok
}

// chunk cuts d with c, failing the test on an error.
func chunk(t testing.TB, c *ingest.Chunker, d ingest.Document) []ingest.Chunk {
	t.Helper()
	chunks, err := c.Chunk(context.Background(), d)
	if err != nil {
		t.Fatalf("Chunk(%s): %v", d.Origin, err)
	}
	return chunks
}
