package reply

import (
	"strings"
	"unicode"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// A follow-up read together with the previous question ("and how long
// does that take?") borrows that question's words, and with them its
// confidence. That is right when the follow-up only points back at the
// topic, wrong when it asks about something new ("is there a minimum
// period?" after "how do I cancel?"): the previous topic's entry then
// wins at the previous question's confidence. So the blended confidence
// holds only when each of the follow-up's own content words is found in
// the previous question or in the chosen entry's texts; otherwise the
// follow-up's own evidence for that entry caps it (see newContent and
// ownEvidence).

// contentRunes is the length from which a word that is not a stop word
// counts as content: shorter words are articles, prepositions and
// pronouns in the languages served ("il", "un", "per", "das"), or halves
// of an elision ("c'è", "l'offerta").
const contentRunes = 4

// keyRunes is how much of a word must match: a crude stem that lets
// "minimo" meet "minima" and "take" meet "takes" in any language.
const keyRunes = 5

// newContent returns the content words of followUp that neither the
// previous question nor any text of the group's hits (question, answer,
// title) contains: what the follow-up asks that the entry does not say.
func newContent(followUp, previous, group, answer string, hits []parley.Hit) []string {
	var support []string
	support = append(support, plainWords(previous)...)
	support = append(support, plainWords(answer)...)
	for _, h := range hits {
		if h.GroupKey == group {
			support = append(support, plainWords(h.Title+" "+h.Text+" "+h.Answer)...)
		}
	}
	var novel []string
	for _, w := range contentWords(followUp) {
		key := prefix(w, keyRunes)
		found := false
		for _, s := range support {
			if strings.HasPrefix(s, key) {
				found = true
				break
			}
		}
		if !found {
			novel = append(novel, w)
		}
	}
	return novel
}

// ownEvidence is the confidence the follow-up's own search gives the
// blended ranking's best candidate: its confidence when it ranks that
// candidate first, and none when it prefers another.
func ownEvidence(alone retrieval.Ranking, group string) float64 {
	if top, ok := alone.Top(); ok && top.GroupKey == group {
		return alone.Confidence
	}
	return 0
}

// pointsBack reports whether a follow-up refers to what came before with
// a pronoun or demonstrative ("how long does that take?", "wie lange
// dauert das?"): read alone it may match another entry well ("How long
// does delivery take?") while it asks about the previous topic.
func pointsBack(text string) bool {
	for _, w := range splitWords(text) {
		if _, ok := backWords[w]; ok {
			return true
		}
	}
	return false
}

// backWords are the pronouns and demonstratives a short follow-up points
// back with, in the languages the engine detects. Words that are more
// often articles or fillers ("there", "het", "le", "y") are left out.
var backWords = wordSet(
	"that", "this", "it", "them", "those", "these", // English
	"das", "dies", "dieses", "diese", "es", "dafür", "dazu", "damit", "davon", // German
	"ça", "cela", "ceci", "celui", "celle", "ceux", "celles", // French
	"eso", "esto", "ello", "ese", "esa", "esos", "esas", // Spanish
	"quello", "quella", "questo", "questa", "ciò", "quelli", "questi", // Italian
	"dat", "dit", "daarvoor", // Dutch
	"isso", "isto", "aquilo", // Portuguese
	"det", "dette", // Swedish, Danish
)

// contentWords returns text's words that are not stop words in any
// language the engine knows (retrieval.IsStopWord) and are at least
// contentRunes long, without accents.
func contentWords(text string) []string {
	var out []string
	for _, w := range splitWords(text) {
		if len([]rune(w)) < contentRunes || retrieval.IsStopWord(w) {
			continue
		}
		out = append(out, foldAccents(w))
	}
	return out
}

// plainWords returns text's words, lower case, without accents.
func plainWords(text string) []string {
	words := splitWords(text)
	for i, w := range words {
		words[i] = foldAccents(w)
	}
	return words
}

// splitWords cuts lower-cased text at anything not a letter or digit.
func splitWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func prefix(w string, n int) string {
	r := []rune(w)
	return string(r[:min(n, len(r))])
}

func wordSet(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}
