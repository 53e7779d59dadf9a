package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/llm"
)

// checkChunks asserts the chunker's guarantee on every chunk.
func checkChunks(t testing.TB, tok *llm.Tokenizer, chunks []ingest.Chunk, maxTokens int) {
	t.Helper()
	for i, c := range chunks {
		if c.Ordinal != i {
			t.Errorf("chunk %d has Ordinal %d", i, c.Ordinal)
		}
		if strings.TrimSpace(c.Text) == "" {
			t.Errorf("chunk %d has no text", i)
		}
		if n := tok.Count(c.Text); c.Tokens != n {
			t.Errorf("chunk %d Tokens = %d, but Text counts %d", i, c.Tokens, n)
		}
		if c.Tokens > maxTokens {
			t.Errorf("chunk %d has %d tokens, max %d", i, c.Tokens, maxTokens)
		}
	}
}

// FAQ entries and conversations are never cut: chunk 0 is the question,
// chunk 1 (when there is an answer) the answer, each truncated to the
// budget, and both show the full answer.
func TestChunkWhole(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	chunker := ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 20})
	long := strings.Repeat("My order never arrived and nobody answers my e-mails. ", 10)
	tests := []struct {
		name       string
		doc        ingest.Document
		wantText   string // "" = a prefix of the question
		wantChunks int
	}{
		{"faq", ingest.Document{Kind: ingest.KindFAQ, Title: "Passwords", Question: " How do I reset my password? ", Answer: "Use the link."}, "How do I reset my password?", 2},
		{"faq with intent only", ingest.Document{Kind: ingest.KindFAQ, Question: "Talk to a human", Intent: "handoff"}, "Talk to a human", 1},
		{"long conversation question", ingest.Document{Kind: ingest.KindConversation, Question: long, Answer: strings.Repeat("A long resolution. ", 50)}, "", 2},
		{"no question", ingest.Document{Kind: ingest.KindFAQ, Answer: "orphan"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chunks := chunk(t, chunker, tt.doc)
			if len(chunks) != tt.wantChunks {
				t.Fatalf("got %d chunks, want %d", len(chunks), tt.wantChunks)
			}
			checkChunks(t, tok, chunks, 20)
			if len(chunks) == 0 {
				return
			}
			q := chunks[0]
			if tt.wantText != "" && q.Text != tt.wantText {
				t.Errorf("Text = %q, want %q", q.Text, tt.wantText)
			}
			if !strings.HasPrefix(strings.TrimSpace(tt.doc.Question), q.Text) {
				t.Errorf("Text %q is not a prefix of the question", q.Text)
			}
			if len(chunks) == 2 && !strings.HasPrefix(strings.TrimSpace(tt.doc.Answer), chunks[1].Text) {
				t.Errorf("chunk 1 Text %q is not a prefix of the answer", chunks[1].Text)
			}
			for _, c := range chunks {
				if c.Answer != tt.doc.Answer {
					t.Errorf("chunk %d Answer = %q, want the full answer", c.Ordinal, c.Answer)
				}
				if c.SectionPath != "" {
					t.Errorf("chunk %d SectionPath = %q, want none", c.Ordinal, c.SectionPath)
				}
			}
		})
	}
}

func TestChunkArticleSections(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	chunker := ingest.NewChunker(tok, ingest.ChunkOptions{})
	doc := ingest.Document{
		Kind:  ingest.KindArticle,
		Title: "Help centre",
		Body: "# Help centre\n\nIntro text.\n\n## Billing\n\n### Refunds\n\nRefunds take 5 days.\n\n" +
			"```\n# a comment\n\nprint(1)\n```\n\n## Shipping\n\nWe ship worldwide.\n\n#### Customs\n\nDuties apply.\n\n# Other\n\nMisc.",
	}
	chunks := chunk(t, chunker, doc)
	checkChunks(t, tok, chunks, ingest.DefaultMaxTokens)
	want := []struct{ path, text string }{
		{"", "Help centre\nIntro text."},
		{"Billing > Refunds", "Help centre — Billing > Refunds\nRefunds take 5 days.\n\n```\n# a comment\n\nprint(1)\n```"},
		{"Shipping", "Help centre — Shipping\nWe ship worldwide."},
		{"Shipping > Customs", "Help centre — Shipping > Customs\nDuties apply."},
		{"Other", "Help centre — Other\nMisc."},
	}
	if len(chunks) != len(want) {
		t.Fatalf("got %d chunks, want %d: %+v", len(chunks), len(want), chunks)
	}
	for i, w := range want {
		c := chunks[i]
		if c.SectionPath != w.path || c.Text != w.text {
			t.Errorf("chunk %d = (%q, %q), want (%q, %q)", i, c.SectionPath, c.Text, w.path, w.text)
		}
		if _, content, _ := strings.Cut(c.Text, "\n"); c.Answer != content {
			t.Errorf("chunk %d Answer = %q, want the text after the context line", i, c.Answer)
		}
	}
}

// article builds a long article: sections of paragraphs of numbered
// sentences, one paragraph with no sentence breaks and one unbroken string.
func article() ingest.Document {
	var b strings.Builder
	n := 0
	sentence := func() string {
		n++
		return fmt.Sprintf("Sentence %d explains one more detail about refunds and returns.", n)
	}
	for s := range 3 {
		fmt.Fprintf(&b, "## Section %d\n\n", s)
		for range 6 {
			for range 2 + n%5 {
				b.WriteString(sentence() + " ")
			}
			b.WriteString("\n\n")
		}
	}
	b.WriteString("## Long\n\n" + strings.Repeat("a very long clause without any full stop ", 80) + "\n\n")
	b.WriteString("## Blob\n\n" + strings.Repeat("xK9$Zq", 800) + "\n")
	return ingest.Document{Kind: ingest.KindArticle, Title: "Refunds", Body: b.String()}
}

func TestChunkArticleLimits(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	for _, opts := range []ingest.ChunkOptions{
		{},
		{MaxTokens: 64, Overlap: 16},
		{MaxTokens: 16, Overlap: 4},
		{MaxTokens: 1, Overlap: 1}, // raised to the minimum of 16
		{MaxTokens: 100, Overlap: -1},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			t.Parallel()
			chunks := chunk(t, ingest.NewChunker(tok, opts), article())
			if len(chunks) < 3 {
				t.Fatalf("got %d chunks", len(chunks))
			}
			maxTokens := max(opts.MaxTokens, 16)
			if opts.MaxTokens == 0 {
				maxTokens = ingest.DefaultMaxTokens
			}
			checkChunks(t, tok, chunks, maxTokens)
		})
	}
}

func TestChunkArticleOverlap(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	chunks := chunk(t, ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 80, Overlap: 20}), article())
	pairs := 0
	for i := 1; i < len(chunks); i++ {
		prev, c := chunks[i-1], chunks[i]
		if prev.SectionPath != c.SectionPath {
			// A new section starts fresh.
			if strings.HasPrefix(c.SectionPath, "Section") && strings.Contains(prev.Answer, firstSentence(c.Answer)) {
				t.Errorf("chunk %d repeats text across sections", i)
			}
			continue
		}
		pairs++
		head := firstSentence(c.Answer)
		if !strings.Contains(prev.Answer, head) {
			t.Errorf("chunk %d starts with %q, which is not in chunk %d:\n%s", i, head, i-1, prev.Answer)
		}
		if n := tok.Count(head); n > 20 && c.SectionPath != "Long" && c.SectionPath != "Blob" {
			t.Errorf("chunk %d carries %d tokens, overlap is 20", i, n)
		}
	}
	if pairs < 5 {
		t.Errorf("only %d consecutive chunk pairs in one section", pairs)
	}
}

func firstSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && unicode.IsSpace(rune(s[i+1])) {
			return s[:i+1]
		}
	}
	return s[:min(len(s), 40)]
}

func TestChunkArticleCoverage(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	doc := article()
	chunks := chunk(t, ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 50, Overlap: -1}), doc)
	var got strings.Builder
	for _, c := range chunks {
		got.WriteString(c.Answer)
	}
	var want strings.Builder
	for line := range strings.SplitSeq(doc.Body, "\n") {
		if !strings.HasPrefix(line, "#") {
			want.WriteString(line)
		}
	}
	if stripSpace(got.String()) != stripSpace(want.String()) {
		t.Errorf("without overlap the chunks do not add up to the article")
	}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func TestChunkerSignature(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	a := ingest.NewChunker(tok, ingest.ChunkOptions{}).Signature()
	b := ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 300, Overlap: 40}).Signature()
	c := ingest.NewChunker(tok, ingest.ChunkOptions{MaxTokens: 200}).Signature()
	if a != b || a == c {
		t.Errorf("signatures %q, %q, %q: want defaults equal to explicit values and a change to show", a, b, c)
	}
}

// Huge unbroken text once took minutes to count and could not be stopped:
// a whole entry costs no more than its first MaxTokens tokens, and an
// article's chunking stops when its context ends.
func TestChunkHugeText(t *testing.T) {
	t.Parallel()
	tok := tokenizer(t)
	chunker := ingest.NewChunker(tok, ingest.ChunkOptions{})
	huge := strings.Repeat("q", 8<<20)

	start := time.Now()
	chunks := chunk(t, chunker, ingest.Document{Kind: ingest.KindFAQ, Question: huge, Answer: huge})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("chunking an 8 MB FAQ entry took %v", d)
	}
	checkChunks(t, tok, chunks, ingest.DefaultMaxTokens)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := chunker.Chunk(ctx, ingest.Document{Kind: ingest.KindArticle, Title: "t", Body: huge})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Chunk(8 MB article) = %v, want it stopped by its context", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Chunk returned %v after its context ended", d-100*time.Millisecond)
	}
}
