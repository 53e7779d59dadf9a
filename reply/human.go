package reply

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// humanRequest matches a customer asking for a person, per language. Text
// is lower-cased and stripped of accents before matching.
var humanRequest = map[string]*regexp.Regexp{
	"en": regexp.MustCompile(`\b(talk|speak|chat|connect|transfer|put)\b.{0,30}\b(human|person|people|someone|somebody|agent|representative|rep|operator|staff|manager|support team)\b` +
		`|\b(real|live|actual)\s+(human|person|agent)\b|^\s*(human|agent|operator|representative)( please| pls| now)?\W*$` +
		`|\b(want|need|get)\b.{0,15}\b(a human|a person|an agent|a real person|someone real|a representative)\b`),
	"de": regexp.MustCompile(`\b(mitarbeiter|mitarbeiterin|mensch|menschen|berater|beraterin|kundendienst|jemandem|jemanden|person)\b.{0,40}\b(sprechen|reden|verbinden|chatten)\b` +
		`|\b(sprechen|reden|verbinden)\b.{0,30}\b(mitarbeiter|mensch|berater|person)\b`),
	"fr": regexp.MustCompile(`\b(parler|discuter|passer|joindre)\b.{0,30}\b(humain|personne|conseiller|conseillere|agent|operateur|quelqu'un|quelqu un)\b` +
		`|\b(un|une) (vrai|vraie) (personne|humain)\b`),
	"es": regexp.MustCompile(`\b(hablar|comunicar|pasar)\b.{0,30}\b(humano|persona|agente|asesor|operador|alguien)\b`),
	"it": regexp.MustCompile(`\b(parlare|passare)\b.{0,30}\b(umano|persona|operatore|agente|qualcuno)\b`),
	"nl": regexp.MustCompile(`\b(spreken|praten)\b.{0,30}\b(mens|medewerker|persoon|iemand)\b|\b(mens|medewerker|persoon|iemand)\b.{0,30}\b(spreken|praten)\b`),
	"pt": regexp.MustCompile(`\b(falar|conversar)\b.{0,30}\b(humano|pessoa|atendente|agente|alguem)\b`),
}

// asksForHuman reports whether text asks for a person in English or one of
// the workspace's languages.
// AsksForHuman reports whether text asks for a person, in English or one
// of languages.
func AsksForHuman(text string, languages []string) bool { return asksForHuman(text, languages) }

func asksForHuman(text string, languages []string) bool {
	t := foldAccents(strings.ToLower(text))
	if humanRequest["en"].MatchString(t) {
		return true
	}
	for _, lang := range languages {
		if re, ok := humanRequest[lang]; ok && lang != "en" && re.MatchString(t) {
			return true
		}
	}
	return false
}

// withoutHumanRequest returns text, lower-cased and without accents, with
// the words asking for a person taken out, or "" when what is left only
// frames the request ("I need to", "est-ce que je peux, s'il vous plaît").
func withoutHumanRequest(text string, languages []string) string {
	t := foldAccents(strings.ToLower(text))
	t = humanRequest["en"].ReplaceAllString(t, " ")
	for _, lang := range languages {
		if re, ok := humanRequest[lang]; ok && lang != "en" {
			t = re.ReplaceAllString(t, " ")
		}
	}
	for _, w := range strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !requestFrame[w] {
			return strings.Join(strings.Fields(t), " ")
		}
	}
	return ""
}

// requestFrame are the words (lower case, without accents; in English and
// the languages humanRequest knows) around a request for a person that
// name no topic: pronouns, modal verbs, politeness.
var requestFrame = func() map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(`i me my we you to a an the with now please pls can could would will need want like real
		ich mochte will bitte kann konnte ich mit einem einer den dem jetzt gerne
		je j moi nous vous voudrais veux voulons aimerais pourrais peux puis est ce que qu s il plait un une le la avec maintenant svp
		quiero quisiera puedo podria necesito por favor con un una el la ahora
		vorrei voglio posso potrei devo per favore con un una uno il la lo vero vera ora
		ik wil graag kan mag met een de het nu alstublieft aub
		eu quero queria posso poderia com um uma o a agora favor`) {
		out[w] = true
	}
	return out
}()

func foldAccents(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}
