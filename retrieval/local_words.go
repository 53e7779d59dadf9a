package retrieval

import (
	_ "embed"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// localWord is one word of a text as the local embedder sees it.
type localWord struct {
	text   string  // normalised surface form, for char n-grams
	term   string  // stem after synonym folding, for word and bigram features
	weight float64 // 1 for rare words, less for common ones (see localMakeWord)
	cjk    bool    // from a script written without spaces
}

// localWords normalises text and cuts it into weighted words.
func localWords(text string, cfg localConfig) []localWord {
	raw := localSplitWords(localNormaliseText(text))
	words := make([]localWord, 0, len(raw)+2)
	for _, r := range raw {
		if parts, ok := localContractions[r]; ok {
			for _, p := range parts {
				words = append(words, localMakeWord(p, cfg))
			}
			continue
		}
		words = append(words, localMakeWord(r, cfg))
	}
	return words
}

// localMakeWord stems and weighs one normalised word. The weight, the built-in
// stand-in for IDF, is the word's tier (localTierWeight), lowered for
// non-function words to their general-English IDF weight (localIDFWeight).
func localMakeWord(text string, cfg localConfig) localWord {
	w := localWord{text: text, term: text, weight: 1}
	first, _ := utf8.DecodeRuneInString(text)
	switch {
	case localIsSpaceless(first):
		w.cjk = true
	case localIsDigit(first):
		w.weight = cfg.numWeight
	default:
		if localIsASCIILetters(text) {
			w.term = english.Stem(text, true)
		}
		w.weight = localTierWeight(text, cfg)
		if cfg.idfScale > 0 && w.weight > cfg.stopWeight {
			w.weight = min(w.weight, localIDFWeight(w.term, cfg))
		}
		if cfg.synonyms {
			if canon, ok := localSynonymStems()[w.term]; ok {
				w.term = canon
			}
		}
	}
	return w
}

// localTierWeight weighs a word by hand-made lists: function words weigh
// stopWeight, question words and negations (common, yet they often decide the
// intent: "why", "not") cueWeight, common verbs and vague words commonWeight,
// all other words 1.
func localTierWeight(text string, cfg localConfig) float64 {
	if _, ok := localCueWords[text]; ok {
		return cfg.cueWeight
	}
	if _, ok := localStopWords[text]; ok {
		return cfg.stopWeight
	}
	if _, ok := localCommonWords[text]; ok && cfg.commonWeight > 0 {
		return cfg.commonWeight
	}
	return 1
}

// localNormaliseText lower-cases text, applies Unicode compatibility forms
// (full-width letters, ligatures) and drops accents from Latin letters, so
// "Café", "CAFE" and "café" are one word. Marks on other scripts (Devanagari
// vowel signs, say) are kept, since there they are letters.
func localNormaliseText(s string) string {
	if localIsASCII(s) {
		return strings.ToLower(s)
	}
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	prevLatin := false
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			if !prevLatin {
				b.WriteRune(r)
			}
			continue
		}
		prevLatin = unicode.Is(unicode.Latin, r)
		b.WriteRune(r)
	}
	return strings.ToLower(norm.NFC.String(b.String()))
}

// localSplitWords cuts normalised text into words: runs of letters (with their
// combining marks) or of digits. Apostrophes inside a word vanish ("don't" ->
// "dont", see localContractions); currency signs become words, since "$" or
// "€" often tells the intent (exchange, top-up in a currency).
func localSplitWords(s string) []string {
	words := make([]string, 0, len(s)/4+1)
	start := -1    // byte offset of the current word, -1 if none
	var cls rune   // class of the current word: 'a' letters, '0' digits, 'c' spaceless script
	var buf []byte // used only for words with apostrophes
	flush := func(end int) {
		if start < 0 {
			return
		}
		if buf != nil {
			words = append(words, string(buf))
			buf = nil
		} else {
			words = append(words, s[start:end])
		}
		start = -1
	}
	for off, r := range s {
		c := localRuneClass(r)
		switch {
		case c == 'm' && start >= 0: // combining mark: part of the word
			if buf != nil {
				buf = utf8.AppendRune(buf, r)
			}
			continue
		case localIsApostrophe(r) && start >= 0 && cls == 'a':
			if buf == nil {
				buf = append([]byte(nil), s[start:off]...)
			}
			continue
		case c == 'a' || c == '0' || c == 'c':
			if start >= 0 && c == cls {
				if buf != nil {
					buf = utf8.AppendRune(buf, r)
				}
				continue
			}
			flush(off)
			start, cls = off, c
			continue
		}
		flush(off)
		if name, ok := localCurrencySigns[r]; ok {
			words = append(words, name)
		}
	}
	flush(len(s))
	return words
}

// localRuneClass is 'a' for letters, '0' for digits, 'c' for letters of scripts
// written without spaces, 'm' for combining marks, 0 for anything else.
func localRuneClass(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			return 'a'
		case '0' <= r && r <= '9':
			return '0'
		}
		return 0
	case localIsSpaceless(r):
		return 'c'
	case unicode.IsLetter(r):
		return 'a'
	case unicode.IsDigit(r):
		return '0'
	case unicode.In(r, unicode.Mn, unicode.Mc):
		return 'm'
	}
	return 0
}

// localIsSpaceless reports letters of scripts that do not put spaces between
// words; there char n-grams do the work of words.
func localIsSpaceless(r rune) bool {
	return r >= 0x0E00 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

func localIsApostrophe(r rune) bool { return r == '\'' || r == '\u2019' || r == '`' }

func localIsDigit(r rune) bool { return unicode.IsDigit(r) }

func localIsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func localIsASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// localSynonymStems maps the stem of every word in localSynonyms to the stem
// of the first word of its group. Built once from the constant table.
var localSynonymStems = sync.OnceValue(func() map[string]string {
	m := make(map[string]string)
	for _, group := range localSynonyms {
		canon := english.Stem(group[0], true)
		for _, w := range group[1:] {
			if s := english.Stem(w, true); s != canon {
				m[s] = canon
			}
		}
	}
	return m
})

//go:embed localdata/wordnet-synonyms.txt
var localWordNetText string

// localWordNetStems maps a word's stem to its WordNet synonyms' stems
// (localdata/wordnet-synonyms.txt, made by internal/wordnetgen).
var localWordNetStems = sync.OnceValue(func() map[string][]string {
	m := make(map[string][]string, 10000)
	for _, line := range strings.Split(localWordNetText, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		stem := english.Stem(f[0], true)
		for _, w := range f[1:] {
			if s := english.Stem(w, true); s != stem && !slices.Contains(m[stem], s) {
				m[stem] = append(m[stem], s)
			}
		}
	}
	return m
})

//go:embed localdata/stemfreq.txt
var localStemFreqText string

// localStemFreq parses localdata/stemfreq.txt: how often each stem occurs in
// general English (SemCor sense tags, see localdata/genfreq), and the total.
var localStemFreq = sync.OnceValues(func() (map[string]int, int) {
	m := make(map[string]int, 9000)
	total := 0
	for _, line := range strings.Split(localStemFreqText, "\n") {
		if t, ok := strings.CutPrefix(line, "# total "); ok {
			total, _ = strconv.Atoi(t)
			continue
		}
		stem, count, ok := strings.Cut(line, " ")
		if n, err := strconv.Atoi(count); ok && err == nil {
			m[stem] = n
		}
	}
	return m, total
})

// localIDFWeight is a built-in IDF from general English: log(total/count)
// divided by idfScale, between idfFloor and 1. Stems too rare to be listed
// weigh 1.
func localIDFWeight(stem string, cfg localConfig) float64 {
	freq, total := localStemFreq()
	n, ok := freq[stem]
	if !ok {
		return 1
	}
	w := math.Log(float64(total)/float64(n+1)) / cfg.idfScale
	return min(max(w, cfg.idfFloor), 1)
}
