package ingest

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/llm"
)

// Chunk is one piece of a document as stored, embedded and searched.
type Chunk struct {
	Ordinal int
	// Text is what is embedded and full-text indexed: the question of a FAQ
	// entry or conversation; for an article, a context line (title and
	// section path) and then a part of the section.
	Text string
	// Answer is what an answer shows: the FAQ answer or the conversation's
	// resolution; for an article, the chunk's part of the section (Text
	// without the context line).
	Answer      string
	SectionPath string // "Billing > Refunds" for articles, empty otherwise
	Tokens      int    // tokens in Text
}

// ChunkOptions size the chunks.
type ChunkOptions struct {
	MaxTokens int // tokens per chunk Text, context line included; 0 = 300, at least 16
	Overlap   int // tokens carried from one article chunk to the next; 0 = 40, negative = none; at most MaxTokens/2
}

// Defaults for ChunkOptions.
const (
	DefaultMaxTokens = 300
	DefaultOverlap   = 40
	minMaxTokens     = 16
)

// Chunker cuts documents into chunks. It is safe for concurrent use.
//
// The guarantee: every chunk's Tokens equals the tokenizer's count of its
// Text and is at most MaxTokens, context line included. The context line
// takes at most MaxTokens/4 tokens (a longer one is truncated), so at least
// three quarters of every chunk is content.
type Chunker struct {
	tok     *llm.Tokenizer
	max     int
	overlap int
}

// NewChunker returns a Chunker counting tokens with tok.
func NewChunker(tok *llm.Tokenizer, opts ChunkOptions) *Chunker {
	maxTokens := opts.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	maxTokens = max(maxTokens, minMaxTokens)
	overlap := opts.Overlap
	switch {
	case overlap == 0:
		overlap = DefaultOverlap
	case overlap < 0:
		overlap = 0
	}
	return &Chunker{tok: tok, max: maxTokens, overlap: min(overlap, maxTokens/2)}
}

// Signature names the chunking: two chunkers with the same signature cut
// every document the same way. Stored chunks made with another signature
// are stale.
func (c *Chunker) Signature() string {
	return fmt.Sprintf("chunk-v2 o200k_base max=%d overlap=%d", c.max, c.overlap)
}

// Chunk cuts d into chunks, numbered from 0. FAQ entries and conversations
// stay whole: chunk 0's Text is the question and, when there is an answer,
// chunk 1's Text is the answer (each truncated to MaxTokens if longer); both
// carry the full answer as Answer. Articles are cut by
// section and paragraph (see article chunking). A document with nothing to
// search gives no chunks.
//
// The work is linear in the size of d. A whole FAQ entry or conversation
// costs no more than its first MaxTokens tokens; an article is cut section
// by section and paragraph by paragraph, and Chunk stops with ctx's error
// when ctx ends.
func (c *Chunker) Chunk(ctx context.Context, d Document) ([]Chunk, error) {
	// Loaders only produce valid UTF-8; a Document built elsewhere may not.
	d.Title = strings.ToValidUTF8(d.Title, "\uFFFD")
	d.Body = strings.ToValidUTF8(d.Body, "\uFFFD")
	d.Question = strings.ToValidUTF8(d.Question, "\uFFFD")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.Kind == KindArticle {
		return c.article(ctx, d)
	}
	return c.whole(d), nil
}

func (c *Chunker) whole(d Document) []Chunk {
	question := strings.TrimSpace(d.Question)
	if question == "" {
		return nil
	}
	chunks := []Chunk{c.bounded(0, question, d.Answer)}
	if d.Kind == KindPhrasing {
		// The answer is searchable through the group's own chunks.
		return chunks
	}
	// The answer is searchable too: a FAQ has one phrasing of its question,
	// and a customer's words often meet the answer's ("when will my order
	// get here" → "delivery to Germany takes 1-2 business days").
	if answer := strings.TrimSpace(strings.ToValidUTF8(d.Answer, "\uFFFD")); answer != "" {
		chunks = append(chunks, c.bounded(1, answer, d.Answer))
	}
	return chunks
}

// bounded is a chunk of text cut to MaxTokens. Truncate reads only the
// part of text that MaxTokens cover, so a huge text costs no more.
func (c *Chunker) bounded(ordinal int, text, answer string) Chunk {
	text = c.tok.Truncate(text, c.max)
	return Chunk{Ordinal: ordinal, Text: text, Answer: answer, Tokens: c.tok.Count(text)}
}
