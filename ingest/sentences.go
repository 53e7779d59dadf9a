package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitSentences cuts text into sentences (see sentenceBounds); they are
// trimmed and never empty.
func splitSentences(text string) []string {
	bounds := sentenceBounds(text)
	out := make([]string, len(bounds))
	for i, b := range bounds {
		out[i] = text[b[0]:b[1]]
	}
	return out
}

// sentenceBounds returns the [start, end) byte offsets of the sentences of
// text, white space around them excluded. A sentence ends after ". ", "! ",
// "? ", "…" followed by a space, the CJK "。！？" (space or not), or a line
// break; closing quotes and brackets stay with their sentence, and "3.5"
// or "example.com" do not end one.
func sentenceBounds(text string) [][2]int {
	var out [][2]int
	add := func(start, end int) {
		for start < end && isSpaceByte(text[start]) {
			start++
		}
		for end > start && isSpaceByte(text[end-1]) {
			end--
		}
		if start < end {
			out = append(out, [2]int{start, end})
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r == '\n' {
			add(start, i)
			start = i
			continue
		}
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
			continue
		}
		add(start, i)
		start = i
	}
	add(start, len(text))
	return out
}

func sentenceEnd(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '…' || cjkSentenceEnd(r)
}

func cjkSentenceEnd(r rune) bool {
	return r == '。' || r == '！' || r == '？'
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}
