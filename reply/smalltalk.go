package reply

import (
	"slices"
	"strings"
	"unicode"

	"github.com/parleyhq/parley"
)

// Small-talk kinds: a message made only of these is answered with a short
// reply, not searched for, and neither escalated nor counted as no_match.
const (
	TalkGreeting = "greeting"
	TalkThanks   = "thanks"
	TalkGoodbye  = "goodbye"
)

// KindSmallTalk is the Answer kind of a small-talk reply.
const KindSmallTalk = "small_talk"

// maxSmallTalkWords: a longer message says something more than hello.
const maxSmallTalkWords = 6

// smallTalkWords are, per language, the words small talk is made of (lower
// case, without accents): each with its kind, or "" for words that only
// go along ("ok", "very", "much").
var smallTalkWords = map[string]map[string]string{
	"en": words(map[string]string{
		TalkGreeting: "hi hello hey hiya howdy yo greetings morning afternoon evening",
		TalkThanks:   "thanks thank thx ty cheers appreciated appreciate",
		TalkGoodbye:  "bye goodbye byebye later cya farewell goodnight night weekend soon",
		"":           "ok okay k good great cool there you so much very a lot all the for that it perfect awesome nice and see ya again have day oh ah alright fine thats got folks everyone team your help many evening take care",
	}),
	"de": words(map[string]string{
		TalkGreeting: "hallo hi hey moin servus gruss gruezi guten tag morgen abend",
		TalkThanks:   "danke dankeschon dank vielen",
		TalkGoodbye:  "tschuss tschuess wiedersehen ciao bis bald spater",
		"":           "ok okay super gut sehr schon schonen prima alles klar ihnen dir euch auf und zusammen",
	}),
	"fr": words(map[string]string{
		TalkGreeting: "bonjour salut bonsoir coucou",
		TalkThanks:   "merci",
		TalkGoodbye:  "revoir bientot plus soiree nuit",
		"":           "ok okay d'accord daccord super parfait tres bien beaucoup au a bonne journee fin semaine vous et encore mille tout le monde",
	}),
	"es": words(map[string]string{
		TalkGreeting: "hola buenos buenas dias tardes noches",
		TalkThanks:   "gracias",
		TalkGoodbye:  "adios luego chao pronto",
		"":           "ok okay vale perfecto genial bien muchas muy hasta y",
	}),
	"it": words(map[string]string{
		TalkGreeting: "ciao buongiorno buonasera salve",
		TalkThanks:   "grazie",
		TalkGoodbye:  "arrivederci presto dopo buonanotte serata",
		"":           "ok okay perfetto va bene mille tante a e buona giornata molte tutto",
	}),
	"nl": words(map[string]string{
		TalkGreeting: "hallo hoi goedemorgen goedemiddag goedenavond",
		TalkThanks:   "bedankt dank dankjewel",
		TalkGoodbye:  "doei dag ziens",
		"":           "ok oke okay prima super je u wel tot",
	}),
	"pt": words(map[string]string{
		TalkGreeting: "ola oi bom boa dia tarde noite",
		TalkThanks:   "obrigado obrigada",
		TalkGoodbye:  "tchau adeus",
		"":           "ok okay otimo perfeito muito ate logo",
	}),
}

func words(byKind map[string]string) map[string]string {
	out := map[string]string{}
	for kind, list := range byKind {
		for _, w := range strings.Fields(list) {
			out[w] = kind
		}
	}
	return out
}

// smallTalkReplies are the default replies, per language and kind.
var smallTalkReplies = map[string]map[string]string{
	"en": {TalkGreeting: "Hello! How can I help you today?", TalkThanks: "You're welcome! Is there anything else I can help with?", TalkGoodbye: "Goodbye, and have a nice day!"},
	"de": {TalkGreeting: "Hallo! Wie kann ich Ihnen helfen?", TalkThanks: "Gern geschehen! Kann ich sonst noch helfen?", TalkGoodbye: "Auf Wiedersehen und einen schönen Tag!"},
	"fr": {TalkGreeting: "Bonjour ! Comment puis-je vous aider ?", TalkThanks: "Avec plaisir ! Puis-je vous aider pour autre chose ?", TalkGoodbye: "Au revoir et bonne journée !"},
	"es": {TalkGreeting: "¡Hola! ¿En qué puedo ayudarle?", TalkThanks: "¡De nada! ¿Puedo ayudarle en algo más?", TalkGoodbye: "¡Adiós y que tenga un buen día!"},
	"it": {TalkGreeting: "Ciao! Come posso aiutarla?", TalkThanks: "Prego! Posso aiutarla in altro?", TalkGoodbye: "Arrivederci e buona giornata!"},
	"nl": {TalkGreeting: "Hallo! Waarmee kan ik u helpen?", TalkThanks: "Graag gedaan! Kan ik u nog ergens mee helpen?", TalkGoodbye: "Tot ziens en een fijne dag!"},
	"pt": {TalkGreeting: "Olá! Como posso ajudar?", TalkThanks: "De nada! Posso ajudar em mais alguma coisa?", TalkGoodbye: "Adeus e tenha um bom dia!"},
}

// SmallTalk tells whether text is only a greeting, thanks or goodbye in
// English or one of the workspace's languages, and if so returns its kind
// (goodbye over thanks over greeting: "thanks, bye" takes leave) and the
// language it is in, preferring known.
func SmallTalk(text string, languages []string, known string) (kind, lang string) {
	ws := strings.FieldsFunc(foldAccents(strings.ToLower(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(ws) == 0 || len(ws) > maxSmallTalkWords {
		return "", ""
	}
	for _, l := range candidateLanguages(languages, known) {
		if k := talkKind(ws, smallTalkWords[l]); k != "" {
			return k, l
		}
	}
	return "", ""
}

// candidateLanguages: the known language first, then the workspace's, then
// English. languages is shared by concurrent answers: it is only read.
func candidateLanguages(languages []string, known string) []string {
	out := []string{known}
	for _, l := range append(slices.Clip(languages), "en") {
		if l != known {
			out = append(out, l)
		}
	}
	return out
}

func talkKind(ws []string, vocabulary map[string]string) string {
	if vocabulary == nil {
		return ""
	}
	rank := map[string]int{TalkGreeting: 1, TalkThanks: 2, TalkGoodbye: 3}
	best := ""
	for _, w := range ws {
		k, ok := vocabulary[w]
		if !ok {
			return ""
		}
		if rank[k] > rank[best] {
			best = k
		}
	}
	return best
}

// smallTalkReply is the workspace's reply to a kind of small talk in lang:
// its own (settings.small_talk) when it has one, else the default.
func smallTalkReply(s parley.WorkspaceSettings, kind, lang string) string {
	if r := strings.TrimSpace(s.SmallTalk[lang][kind]); r != "" {
		return r
	}
	if r, ok := smallTalkReplies[lang][kind]; ok {
		return r
	}
	return smallTalkReplies["en"][kind]
}
