package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
)

// The loaders and the chunker must stay linear in the input: these
// benchmarks double as a check on quadratic slips (run with -bench .).

func BenchmarkLoadFAQJSONArray(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i := range 20_000 {
		if i > 0 {
			buf.WriteString(",\n")
		}
		fmt.Fprintf(&buf, `{"id": %d, "question": "Question number %d?", "answer": "Answer %d.", "tags": ["a", "b"]}`, i, i, i)
	}
	buf.WriteString("\n]")
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := ingest.LoadReader(context.Background(), bytes.NewReader(data), "faq.json", ingest.LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMaskPII(b *testing.B) {
	text := strings.Repeat("Order 12345678 cost $1,234.56 on 2024-01-15; call +44 20 7946 0958 or mail a@b.co. ", 2000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		ingest.MaskPII(text)
	}
}

func BenchmarkChunkArticle(b *testing.B) {
	tok := tokenizer(b)
	chunker := ingest.NewChunker(tok, ingest.ChunkOptions{})
	doc := article()
	doc.Body = strings.Repeat(doc.Body+"\n\n", 5)
	b.SetBytes(int64(len(doc.Body)))
	for b.Loop() {
		chunk(b, chunker, doc)
	}
}
