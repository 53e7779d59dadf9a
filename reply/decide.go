package reply

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// Decision is the engine's choice for one message and why.
type Decision struct {
	Answer  bool
	Reason  string // escalation reason when not Answer
	Explain string // for the agent who gets the escalation
	// Scored is true when the confidence and the threshold decided: no
	// rule escalated first and the knowledge had a match. Evals calibrate
	// the threshold on these.
	Scored bool
}

// DefaultMinSimilarity is the nearest-hit similarity below which the
// knowledge is taken to have nothing on the question at all (no_match
// rather than low_confidence) when the workspace's calibration has not
// fitted one for its embedder (see retrieval.Calibration.MinSimilarity).
// It suits the offline embedder; suggestions to agents use it too.
const DefaultMinSimilarity = 0.25

// Bars are the similarity bars of a workspace's calibration (see
// retrieval.Calibration) that Decide applies besides the confidence
// threshold.
type Bars struct {
	// Floor is the nearest-hit similarity under which the knowledge has
	// nothing on the question (no_match): the workspace's calibrated one,
	// or DefaultMinSimilarity.
	Floor float64
	// Similarity is the best answer's nearest-hit similarity under which
	// it is not answered whatever its confidence (low_confidence); 0
	// without one.
	Similarity float64
}

// repeatSimilarity is how close a message must be to the customer's
// previous one to count as asking the same thing again.
const repeatSimilarity = 0.8

// Decide chooses between answering and escalating. Rules that do not
// depend on a match come first: a request for a human, and a sensitive
// topic the customer raises in their own words (this message or their
// recent ones, in English or a workspace language). Then no match; and
// only for a real match, a sensitive topic of the best answer (when it
// would have been answered: a weak guess is low confidence), a code or
// number the question names that the answer does not, a repeated
// question, a confidence under the workspace's threshold, and an answer
// group without answer text (labelled examples only). bars are the
// workspace's calibrated similarity bars: under bars.Floor nothing
// matches, under bars.Similarity the best answer's confidence does not
// count (a question that far from it is usually about something the
// knowledge does not cover). simToPrevious is the
// similarity of the message to the customer's previous one (0 when there
// is none).
func Decide(s parley.WorkspaceSettings, bars Bars, text string, history []parley.Message, r retrieval.Ranking, simToPrevious float64) Decision {
	if asksForHuman(text, s.Languages) {
		return Decision{Reason: parley.ReasonHumanRequested, Explain: "The customer asked for a person."}
	}
	if topic := sensitiveInText(s, append(recentCustomerTexts(history, sensitiveLookback), text)...); topic != "" {
		return Decision{Reason: parley.ReasonSensitive,
			Explain: fmt.Sprintf("The customer raises %q, which this workspace always hands to a person.", topic)}
	}
	top, ok := r.Top()
	if !ok || top.Similarity < bars.Floor {
		return Decision{Reason: parley.ReasonNoMatch, Explain: "Nothing in the knowledge matches the question."}
	}
	if topic := sensitiveTopic(s.Sensitive, top); topic != "" && r.Confidence >= s.AnswerThreshold {
		return Decision{Reason: parley.ReasonSensitive,
			Explain: fmt.Sprintf("The question matches %q, which this workspace always hands to a person.", topic)}
	}
	if code := retrieval.MissingCode(text, top.Answer); code != "" {
		return Decision{Reason: parley.ReasonLowConfidence,
			Explain: fmt.Sprintf("The question names %s, which the best answer does not: it is about another one.", code)}
	}
	if askedAgain(text, history, top.GroupKey, simToPrevious) {
		return Decision{Reason: parley.ReasonRepeat,
			Explain: "The customer asked again after the bot's answer, so the answer did not help."}
	}
	if r.Confidence < s.AnswerThreshold {
		return Decision{Scored: true, Reason: parley.ReasonLowConfidence,
			Explain: fmt.Sprintf("The best answer's confidence %.2f is under the workspace's threshold %.2f.", r.Confidence, s.AnswerThreshold)}
	}
	if top.Similarity < bars.Similarity {
		return Decision{Scored: true, Reason: parley.ReasonLowConfidence,
			Explain: fmt.Sprintf("The question is farther from the best answer's questions (similarity %.2f) than this workspace's own questions are when it answers them (%.2f): it is likely about something the knowledge does not cover.", top.Similarity, bars.Similarity)}
	}
	if top.Answer == "" {
		return Decision{Scored: true, Reason: parley.ReasonNoMatch,
			Explain: fmt.Sprintf("The question matches %s, which has example questions but no answer text yet.", top.GroupKey)}
	}
	return Decision{Scored: true, Answer: true}
}

// sensitiveLookback is how many of the customer's earlier messages are
// read, with the new one, for a sensitive topic.
const sensitiveLookback = 3

// recentCustomerTexts returns the customer's last n messages, oldest first.
func recentCustomerTexts(history []parley.Message, n int) []string {
	var out []string
	for i := len(history) - 1; i >= 0 && len(out) < n; i-- {
		if history[i].Role == parley.RoleCustomer {
			out = append(out, history[i].Text)
		}
	}
	slices.Reverse(out)
	return out
}

// askedAgain reports whether the message asks again what the bot's last
// answer (from group) already said: the same answer would not help. A
// close rewording counts, and so does any longer message that leads to
// that answer again; a short follow-up ("and to Ireland?") that leads
// there is a new question on the same topic.
func askedAgain(text string, history []parley.Message, group string, simToPrevious float64) bool {
	if !answeredWith(history, group) {
		return false
	}
	return simToPrevious >= repeatSimilarity || len(strings.Fields(text)) > followUpWords
}

// sensitiveTopic returns the intent or tag of c on the sensitive list.
func sensitiveTopic(sensitive []string, c retrieval.Candidate) string {
	for _, s := range sensitive {
		if strings.EqualFold(s, c.Intent) {
			return s
		}
		for _, t := range c.Tags {
			if strings.EqualFold(s, t) {
				return s
			}
		}
	}
	return ""
}

// answeredWith reports whether the bot's last message was an answer from
// the given answer group.
func answeredWith(history []parley.Message, group string) bool {
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if m.Role != parley.RoleBot {
			continue
		}
		var meta botMeta
		if json.Unmarshal(m.Meta, &meta) != nil {
			return false
		}
		return meta.Kind == "answer" && meta.Group == group
	}
	return false
}

// followUpWords is the length under which a message is read together with
// the customer's previous one ("and to Ireland?").
const followUpWords = 6

// Topic returns what to search the knowledge for to answer text: text
// itself, and the customer's previous question for Retrieve to read a short
// follow-up with. A request for a person is searched for the
// conversation's topic instead, for routing and suggestions: the
// customer's last messages with this one, without the words asking for a
// person. Both are empty when there is no topic.
func Topic(text string, history []parley.Message, languages []string) (query, previous string) {
	if !asksForHuman(text, languages) {
		return text, PreviousQuestion(history)
	}
	earlier := recentCustomerTexts(history, 2)
	return strings.TrimSpace(strings.Join(append(earlier, withoutHumanRequest(text, languages)), " ")), ""
}

// PreviousQuestion returns the customer's last message before this one.
func PreviousQuestion(history []parley.Message) string {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == parley.RoleCustomer {
			return history[i].Text
		}
	}
	return ""
}

// handoffNotices tell the customer a person takes over, per language.
var handoffNotices = map[string]string{
	"en": "I'm passing your conversation to a member of our team. They'll reply here as soon as they can.",
	"de": "Ich gebe Ihr Anliegen an eine Kollegin oder einen Kollegen weiter. Sie erhalten hier so bald wie möglich eine Antwort.",
	"fr": "Je transmets votre conversation à un membre de notre équipe. Il vous répondra ici dès que possible.",
	"es": "Paso su conversación a un miembro de nuestro equipo. Le responderá aquí lo antes posible.",
	"it": "Passo la sua conversazione a un membro del nostro team. Le risponderà qui il prima possibile.",
	"nl": "Ik geef uw gesprek door aan een collega. U krijgt hier zo snel mogelijk antwoord.",
	"pt": "Vou passar a sua conversa para um membro da nossa equipa. Responderá aqui assim que possível.",
}

func handoffNotice(lang string) string {
	if n, ok := handoffNotices[lang]; ok {
		return n
	}
	return handoffNotices["en"]
}
