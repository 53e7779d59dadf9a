package llm

import (
	"fmt"
	"iter"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// encodingName is the tiktoken encoding used for all token budgets. The
// gpt-4o/gpt-5/o-series models use it; older models differ by a few percent,
// which is well inside the margins the budgets keep.
const encodingName = "o200k_base"

// loadEncoding builds the o200k_base encoder once per process. Building it
// compiles a large regular expression and reads a 200k-entry vocabulary, so
// every Tokenizer shares the one encoder (tiktoken's Encode and Decode only
// read from it, and its regexp2 matcher is safe for concurrent use).
//
// The offline loader reads the vocabulary embedded in tiktoken-go-loader:
// nothing is downloaded at run time. SetBpeLoader sets a package variable in
// tiktoken, which is why it is done here, once, and not per Tokenizer.
var loadEncoding = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	enc, err := tiktoken.GetEncoding(encodingName)
	if err != nil {
		return nil, fmt.Errorf("load tiktoken encoding %s: %w", encodingName, err)
	}
	return enc, nil
})

// Tokenizer counts and truncates text in model tokens. It is safe for
// concurrent use by multiple goroutines.
type Tokenizer struct {
	enc *tiktoken.Tiktoken
}

// NewTokenizer returns a Tokenizer for the o200k_base encoding, loaded from
// the vocabulary compiled into the binary.
func NewTokenizer() (*Tokenizer, error) {
	enc, err := loadEncoding()
	if err != nil {
		return nil, err
	}
	return &Tokenizer{enc: enc}, nil
}

// Count returns the number of tokens in text. Special-token markers such as
// "<|endoftext|>" are counted as ordinary text. It takes time linear in
// len(text) (see segment).
func (t *Tokenizer) Count(text string) int {
	n := 0
	for seg := range segments(text) {
		n += len(t.enc.EncodeOrdinary(seg))
	}
	return n
}

// Truncate returns the longest prefix of text, cut on a token boundary, that
// has at most max tokens (Count(result) <= max always holds). The cut never
// splits a UTF-8 character. Invalid UTF-8 in text is replaced by U+FFFD
// first, as the tokenizer itself does. It reads only as much of text as
// max tokens can cover, so a huge text costs no more than a short one.
func (t *Tokenizer) Truncate(text string, max int) string {
	if max <= 0 || text == "" {
		return ""
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	kept, left := 0, max // bytes of text kept whole, tokens still allowed
	for seg := range segments(text) {
		tokens := t.enc.EncodeOrdinary(seg)
		if len(tokens) <= left {
			kept += len(seg)
			left -= len(tokens)
			continue
		}
		return text[:kept] + t.truncateSegment(tokens, left)
	}
	return text
}

// truncateSegment returns the longest prefix of one segment, given as its
// tokens, with at most max tokens. Decoding a token prefix and encoding it
// again usually gives the same tokens, but the tokenizer's pre-split can
// differ at the new end of the text, so it checks and shortens until the
// count holds.
func (t *Tokenizer) truncateSegment(tokens []int, max int) string {
	for n := max; n > 0; {
		prefix := trimIncompleteRune(t.enc.Decode(tokens[:n]))
		got := len(t.enc.EncodeOrdinary(prefix))
		if got <= max {
			return prefix
		}
		n -= got - max
	}
	return ""
}

// Chat formats wrap every message in a few tokens of their own, and the
// reply is primed with a few more. These are OpenAI's published numbers;
// other models' templates cost about the same.
const (
	tokensPerMessage = 4
	tokensPerReply   = 3
)

// CountMessages returns the tokens a chat prompt takes, format included.
func (t *Tokenizer) CountMessages(msgs []Message) int {
	n := tokensPerReply
	for _, m := range msgs {
		n += tokensPerMessage + t.Count(m.Role) + t.Count(m.Content)
	}
	return n
}

// Segmented encoding. Byte-pair merging costs time quadratic in the length
// of each piece the tokenizer's pattern splits off, and a piece can be the
// whole of an unbroken run: a megabyte of one letter took minutes. So text
// is encoded in segments, cut where the pattern always cuts (before a space
// or tab that follows a non-space: no piece runs on from a non-space into
// a space or tab, and the pattern matches from there alike whatever came
// before) and, inside a run longer than maxRun bytes with no such place,
// every maxRun bytes. Counts are exact except inside such runs, where they
// may differ from whole-text encoding by a token per cut; Count and
// Truncate use the same cuts, so they always agree with each other.
const (
	maxRun     = 256  // bytes of a run without a natural cut before a forced one
	segmentLen = 2048 // bytes a segment grows to before it is cut at a natural place
)

// segments yields text in consecutive segments that join to text.
func segments(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for text != "" {
			n := segment(text)
			if !yield(text[:n]) {
				return
			}
			text = text[n:]
		}
	}
}

// segment returns the length of text's first segment: up to the last
// natural cut within segmentLen bytes, or maxRun bytes past the last
// natural (or forced) cut when the run goes on longer, or all of text.
func segment(text string) int {
	lastCut, runStart := 0, 0
	for i := 1; i < len(text); i++ {
		if (text[i] == ' ' || text[i] == '\t') && !isSpace(text[i-1]) {
			if i >= segmentLen {
				return i
			}
			lastCut, runStart = i, i
			continue
		}
		if i-runStart < maxRun {
			continue
		}
		if lastCut > 0 {
			return lastCut
		}
		for !utf8.RuneStart(text[i]) && i > runStart+1 {
			i--
		}
		return i
	}
	return len(text)
}

// isSpace reports whether b is an ASCII space or a byte of a multi-byte
// character (which may be a Unicode space): a cut never follows one.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f' || b >= utf8.RuneSelf
}

// trimIncompleteRune drops a partial UTF-8 sequence at the end of s, left
// there when a cut falls inside a multi-byte character.
func trimIncompleteRune(s string) string {
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}
