package reply

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"

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
// language the engine knows and are at least contentRunes long, without
// accents.
func contentWords(text string) []string {
	var out []string
	for _, w := range splitWords(text) {
		if len([]rune(w)) < contentRunes || isStopWord(w) {
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

// isStopWord reports whether w (lower case) is a function word in one of
// the languages a customer may write in: the Snowball lists where the
// stemmer package has one, and otherStopWords.
func isStopWord(w string) bool {
	if english.IsStopWord(w) || french.IsStopWord(w) || spanish.IsStopWord(w) ||
		norwegian.IsStopWord(w) || swedish.IsStopWord(w) {
		return true
	}
	_, ok := otherStopWords[w]
	return ok
}

// otherStopWords are function words of contentRunes letters or more in
// languages the Snowball package has no list for (German, Italian, Dutch,
// Portuguese), and question words and fillers a follow-up starts with in
// English and French, and English verbs that say what the customer wants
// rather than what about ("do I need to ..."). Chosen by hand.
var otherStopWords = wordSet(
	// English
	"much", "many", "also", "else", "still", "anything", "something", "please", "thanks", "thank", "hello", "okay",
	"need", "want", "know", "tell", "like", "able", "possible",
	"would", "could", "will",
	// French
	"comment", "combien", "quand", "pourquoi", "quel", "quelle", "quels", "quelles", "aussi", "encore", "alors",
	"merci", "bonjour", "peux", "peut", "pouvez", "faut", "faire", "avez", "sont",
	// German
	"aber", "alle", "allem", "allen", "aller", "alles", "auch", "bist", "dann", "dass", "daß", "dein", "deine",
	"denn", "diese", "dieser", "dieses", "doch", "dort", "eine", "einem", "einen", "einer", "eines", "etwas",
	"euch", "euer", "eure", "habe", "haben", "hast", "hatte", "ihre", "ihren", "ihrem", "ihrer", "jede", "jeder",
	"jetzt", "kann", "kannst", "können", "könnt", "machen", "mein", "meine", "meinem", "meinen", "meiner",
	"mich", "muss", "musst", "nach", "nicht", "noch", "oder", "schon", "sein", "seine", "sich", "sind", "soll",
	"über", "unser", "unsere", "viel", "warum", "weil", "welche", "welcher", "welches", "wenn", "werde",
	"werden", "wieso", "wird", "woher", "wohin", "wann", "wieviel", "wollen", "will", "würde", "gibt", "geht",
	"bitte", "danke", "hallo",
	// Italian
	"anche", "come", "dove", "quando", "quale", "quali", "quanto", "quanta", "quanti", "quante", "perché",
	"cosa", "sono", "siete", "avete", "abbiamo", "hanno", "essere", "avere", "questo", "questa", "questi",
	"queste", "quello", "quella", "quelli", "della", "dello", "delle", "degli", "alla", "allo", "alle", "agli",
	"dalla", "dallo", "dalle", "dagli", "nella", "nello", "nelle", "negli", "sulla", "sullo", "sulle", "sugli",
	"posso", "puoi", "possiamo", "potete", "possono", "fare", "faccio", "devo", "deve", "dovrei", "vorrei",
	"voglio", "miei", "nostro", "nostra", "vostro", "vostra", "loro", "ancora", "però", "allora", "quindi",
	"oppure", "molto", "poco", "tutto", "tutti", "tutte", "ogni", "senza", "sempre", "invece", "ecco", "grazie",
	"ciao", "salve", "buongiorno", "stato", "stata",
	// Dutch
	"maar", "alle", "deze", "door", "voor", "naar", "niet", "geen", "hebben", "heeft", "kunnen", "kunt",
	"moet", "moeten", "mijn", "jullie", "jouw", "onze", "zijn", "wordt", "worden", "waar", "wanneer",
	"waarom", "welke", "hoeveel", "over", "graag", "bedankt",
	// Portuguese
	"como", "onde", "qual", "quais", "porque", "porquê", "para", "pelo", "pela", "pelos", "pelas", "isso",
	"isto", "esse", "essa", "este", "esta", "aquele", "aquela", "minha", "vocês", "você", "posso", "pode",
	"podem", "tenho", "temos", "fazer", "também", "mais", "muito", "ainda", "então", "sobre", "obrigado",
	"obrigada", "está", "estão", "umas",
)

func wordSet(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}
