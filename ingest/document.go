package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"
	"time"
)

// Kind is the kind of a source.
type Kind string

// The kinds of source a knowledge base holds.
const (
	KindFAQ          Kind = "faq"
	KindArticle      Kind = "article"
	KindConversation Kind = "conversation"
	// KindPhrasing is a question learned from a resolution: one chunk, the
	// question, that joins the answer group Group and shows its Answer.
	// Only the knowledge service makes them; no loader reads them.
	KindPhrasing Kind = "phrasing"
)

// Document is one source as read from an upload, before chunking.
type Document struct {
	// ExternalID is the stable identity of the source within a knowledge
	// base: the FAQ entry's id (or "faq:" + a hash of its question and
	// intent), the article's path in the upload, the conversation's id.
	ExternalID string
	Kind       Kind
	Title      string
	URL        string
	Language   string // as given (ISO 639-1 like "en"), may be empty
	Intent     string
	Tags       []string
	// Question is the FAQ question, or what the customer asked in a
	// conversation (their turns before the first agent reply, joined by "\n").
	Question string
	// Answer is the FAQ answer (may be empty when Intent is set), or the
	// conversation's resolution, else the agent's last message.
	Answer string
	// Body is an article's cleaned text, headings kept as "#" lines and code
	// kept between ``` fences.
	Body       string
	Transcript []Turn // conversation only
	Origin     string // where it came from, for messages: "faq.csv:12", "docs/a.md"
	// Group is the answer group a phrasing joins (KindPhrasing only).
	Group string
}

// Turn is one message of a conversation.
type Turn struct {
	Role string // "customer", "agent" or "bot"
	Text string
	At   time.Time // zero when not given
}

// ContentHash returns the hex SHA-256 of everything that affects the stored
// source and its chunks: kind, title, URL, language, intent, tags, question,
// answer, body and transcript. ExternalID and Origin are identity, not
// content, and are left out. Each field is length-prefixed, so the hash is
// unambiguous and stable across runs.
func (d Document) ContentHash() string {
	h := sha256.New()
	for _, s := range []string{string(d.Kind), d.Title, d.URL, d.Language, d.Intent, d.Question, d.Answer, d.Body} {
		writeField(h, s)
	}
	writeCount(h, len(d.Tags))
	for _, tag := range d.Tags {
		writeField(h, tag)
	}
	if d.Kind == KindPhrasing {
		writeField(h, d.Group)
	}
	writeCount(h, len(d.Transcript))
	for _, turn := range d.Transcript {
		writeField(h, turn.Role)
		writeField(h, turn.Text)
		at := ""
		if !turn.At.IsZero() {
			at = turn.At.UTC().Format(time.RFC3339Nano)
		}
		writeField(h, at)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, s string) {
	writeCount(h, len(s))
	h.Write([]byte(s))
}

func writeCount(h hash.Hash, n int) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	h.Write(buf[:])
}

// faqExternalID is the identity of a FAQ entry that has no id of its own:
// "faq:" + the first 16 hex digits of the SHA-256 of the normalised question
// (lower-cased, whitespace collapsed), "|" and the intent. Rewording the
// answer keeps the identity; rewording the question makes a new entry.
func faqExternalID(question, intent string) string {
	norm := strings.Join(strings.Fields(strings.ToLower(question)), " ")
	sum := sha256.Sum256([]byte(norm))
	return "faq:" + hex.EncodeToString(sum[:])[:16] + "|" + intent
}
