package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/ingest"
)

// fuzzOpts keeps fuzz inputs from spending time on huge record counts.
var fuzzOpts = ingest.LoadOptions{MaxRecords: 500, MaxFileBytes: 1 << 20}

func addFile(f *testing.F, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

// checkLoaded asserts what every loader promises: only *InputError for bad
// content, and documents that are complete, valid UTF-8 and unique.
func checkLoaded(t *testing.T, docs []ingest.Document, err error, kind ingest.Kind, origin string) {
	t.Helper()
	if err != nil {
		var ie *ingest.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error %v (%T) is not an *InputError", err, err)
		}
		if !utf8.ValidString(err.Error()) {
			t.Fatalf("error message is not valid UTF-8: %q", err.Error())
		}
		return
	}
	seen := map[string]bool{}
	for _, d := range docs {
		if d.Kind != kind || d.ExternalID == "" || seen[d.ExternalID] {
			t.Fatalf("bad document kind %q id %q (seen %v)", d.Kind, d.ExternalID, seen[d.ExternalID])
		}
		seen[d.ExternalID] = true
		if !strings.HasPrefix(d.Origin, origin+":") {
			t.Fatalf("Origin %q, want %s:<line>", d.Origin, origin)
		}
		if strings.TrimSpace(d.Question) == "" {
			t.Fatalf("%s: empty question", d.Origin)
		}
		for _, s := range append([]string{d.ExternalID, d.Question, d.Answer, d.Intent, d.Title, d.Language, d.URL}, d.Tags...) {
			if !utf8.ValidString(s) {
				t.Fatalf("%s: invalid UTF-8 %q", d.Origin, s)
			}
		}
		switch kind {
		case ingest.KindFAQ:
			if d.Answer == "" && d.Intent == "" {
				t.Fatalf("%s: no answer and no intent", d.Origin)
			}
		case ingest.KindConversation:
			if d.Answer == "" {
				t.Fatalf("%s: no answer", d.Origin)
			}
			if got := ingest.MaskPII(d.Question); got != d.Question {
				t.Fatalf("%s: PII left in question: %q → %q", d.Origin, d.Question, got)
			}
		}
	}
}

func FuzzLoadFAQCSV(f *testing.F) {
	addFile(f, "testdata/kb/faq.csv")
	f.Add([]byte("\xEF\xBB\xBFquestion;answer\r\n\"a\r\nb\";c\r\n"))
	f.Add([]byte("id,question,answer\n1,a,b\n1,c,d\n"))
	f.Add([]byte("question,intent\n\"unterminated,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _, err := ingest.LoadReader(context.Background(), bytes.NewReader(data), "faq.csv", fuzzOpts)
		checkLoaded(t, docs, err, ingest.KindFAQ, "faq.csv")
	})
}

func FuzzLoadJSONL(f *testing.F) {
	f.Add([]byte(`{"id": 1, "question": "a", "answer": "b", "tags": ["x", "y"]}` + "\n" + `{"question": "c", "intent": "d", "tags": "p;q"}`))
	f.Add([]byte(`[{"question": "a", "answer": "b"}, {"question": "c", "answer": null}]`))
	f.Add([]byte("{\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOpts
		opts.Format = ingest.FormatJSONL
		docs, _, err := ingest.LoadReader(context.Background(), bytes.NewReader(data), "faq.jsonl", opts)
		checkLoaded(t, docs, err, ingest.KindFAQ, "faq.jsonl")
	})
}

func FuzzLoadConversations(f *testing.F) {
	addFile(f, "testdata/kb/convs.jsonl")
	f.Add([]byte(`[{"id": 7, "messages": [{"role": "CUSTOMER", "text": "call 555-123-4567"}, {"role": "agent", "text": "ok", "at": "2024-01-01T00:00:00+02:00"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOpts
		opts.Format = ingest.FormatConversations
		docs, _, err := ingest.LoadReader(context.Background(), bytes.NewReader(data), "convs.jsonl", opts)
		checkLoaded(t, docs, err, ingest.KindConversation, "convs.jsonl")
	})
}

func FuzzHTML(f *testing.F) {
	addFile(f, "testdata/kb/docs/shipping.html")
	f.Add([]byte("<h1>a</h1><pre>```\n# x</pre><p># y</p><table><tr><td>1<td>2</table>"))
	f.Add([]byte("<article><header><h2>t</h2></header><ul><li><li>x</ul></article>"))
	tok := tokenizer(f)
	chunker := ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 48, Overlap: 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _, err := ingest.LoadReader(context.Background(), bytes.NewReader(data), "page.html", fuzzOpts)
		if err != nil {
			var ie *ingest.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T) is not an *InputError", err, err)
			}
			return
		}
		for _, d := range docs {
			if !utf8.ValidString(d.Body) || !utf8.ValidString(d.Title) {
				t.Fatalf("invalid UTF-8 in %q / %q", d.Title, d.Body)
			}
			checkChunks(t, tok, chunk(t, chunker, d), 48)
		}
	})
}

func FuzzChunk(f *testing.F) {
	f.Add("Refunds", "# Refunds\n\n## Card\n\nOne. Two! Three?\n\n```\n# code\n```\n", uint16(40), int8(8))
	f.Add("", strings.Repeat("word ", 200), uint16(16), int8(-1))
	f.Add("T", "退款会在五个工作日内退回原卡。"+strings.Repeat("🧑‍🚀", 50), uint16(20), int8(30))
	tok := tokenizer(f)
	f.Fuzz(func(t *testing.T, title, body string, maxTokens uint16, overlap int8) {
		if len(body) > 1<<16 {
			return
		}
		opts := ingest.ChunkOptions{MaxTokens: int(maxTokens % 512), Overlap: int(overlap)}
		chunker := ingest.NewChunker(tok, opts)
		limit := opts.MaxTokens
		switch {
		case limit == 0:
			limit = ingest.DefaultMaxTokens
		case limit < 16:
			limit = 16
		}
		chunks := chunk(t, chunker, ingest.Document{Kind: ingest.KindArticle, Title: title, Body: body})
		checkChunks(t, tok, chunks, limit)
		for _, c := range chunks {
			if strings.TrimSpace(c.Answer) == "" || strings.Contains(c.SectionPath, "\n") {
				t.Fatalf("chunk %d: answer %q, section path %q", c.Ordinal, c.Answer, c.SectionPath)
			}
		}
		faq := chunk(t, chunker, ingest.Document{Kind: ingest.KindFAQ, Question: body, Answer: title})
		checkChunks(t, tok, faq, limit)
		if len(faq) > 2 {
			t.Fatalf("FAQ entry cut into %d chunks", len(faq))
		}
		for _, c := range faq {
			if c.Answer != title {
				t.Fatalf("FAQ chunk %d Answer = %q, want the full answer %q", c.Ordinal, c.Answer, title)
			}
		}
	})
}

func FuzzMaskPII(f *testing.F) {
	f.Add("call +1 (555) 123-4567 or mail a@b.co; card 4111 1111 1111 1111; IBAN DE89 3704 0044 0532 0130 00")
	f.Add("on 2024-01-15 10:30 paid $1,234.56 for order A1234567")
	f.Fuzz(func(t *testing.T, s string) {
		got := ingest.MaskPII(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("MaskPII(%q) = %q, invalid UTF-8", s, got)
		}
		if again := ingest.MaskPII(got); again != got {
			t.Fatalf("MaskPII is not idempotent:\n in  %q\n 1st %q\n 2nd %q", s, got, again)
		}
	})
}
