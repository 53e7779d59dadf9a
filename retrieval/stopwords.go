package retrieval

import (
	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"
)

// IsStopWord reports whether w (lower case, accents as written) is a
// function word in one of the languages a customer may write in: a word
// that says nothing of what a question is about. It holds the Snowball
// lists where the stemmer package has one (English, French, Spanish,
// Norwegian, Swedish) and stopWords for the rest.
//
// It is not the local embedder's weighting: localStopWords and
// localCommonWords are English tables frozen with LocalModel.
func IsStopWord(w string) bool {
	if english.IsStopWord(w) || french.IsStopWord(w) || spanish.IsStopWord(w) ||
		norwegian.IsStopWord(w) || swedish.IsStopWord(w) {
		return true
	}
	_, ok := stopWords[w]
	return ok
}

// stopWords are function words of four letters or more in languages the
// Snowball package has no list for (German, Italian, Dutch, Portuguese),
// and, in English and French, question words, fillers, greetings and the
// verbs that say what the customer wants rather than what about ("do I
// need to ..."). Words shorter than four letters are left to the caller
// (articles, prepositions, halves of an elision). Chosen by hand.
var stopWords = wordSet(
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
