package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitSentences cuts text after sentence-ending punctuation (". ", "! ",
// "? ", "…", and the CJK "。！？" with or without a space), keeping
// closing quotes and brackets with their sentence. White space between
// sentences is dropped; the sentences are trimmed and never empty.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if !sentenceEnd(r) {
			continue
		}
		// Keep runs like "?!" and "...", then closing quotes and brackets.
		for i < len(text) {
			r2, size2 := utf8.DecodeRuneInString(text[i:])
			if !sentenceEnd(r2) && !strings.ContainsRune(`"')]}»”’`, r2) {
				break
			}
			i += size2
		}
		next, _ := utf8.DecodeRuneInString(text[i:])
		if i < len(text) && !unicode.IsSpace(next) && !cjkSentenceEnd(r) {
			continue // "3.5", "e.g.x", "example.com"
		}
		if s := strings.TrimSpace(text[start:i]); s != "" {
			out = append(out, s)
		}
		start = i
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func sentenceEnd(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '…' || cjkSentenceEnd(r)
}

func cjkSentenceEnd(r rune) bool {
	return r == '。' || r == '！' || r == '？'
}
