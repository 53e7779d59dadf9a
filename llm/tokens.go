package llm

import (
	"fmt"
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
// "<|endoftext|>" are counted as ordinary text.
func (t *Tokenizer) Count(text string) int {
	if text == "" {
		return 0
	}
	return len(t.encode(text))
}

// Truncate returns the longest prefix of text, cut on a token boundary, that
// has at most max tokens (Count(result) <= max always holds). The cut never
// splits a UTF-8 character. Invalid UTF-8 in text is replaced by U+FFFD
// first, as the tokenizer itself does.
func (t *Tokenizer) Truncate(text string, max int) string {
	if max <= 0 || text == "" {
		return ""
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	tokens := t.encode(text)
	if len(tokens) <= max {
		return text
	}
	// Decoding a token prefix and encoding it again usually gives the same
	// tokens, but the tokenizer's pre-split can differ at the new end of the
	// text, so check and shorten until the count holds.
	for n := max; n > 0; {
		prefix := trimIncompleteRune(t.enc.Decode(tokens[:n]))
		got := t.Count(prefix)
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

func (t *Tokenizer) encode(text string) []int {
	return t.enc.EncodeOrdinary(text)
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
