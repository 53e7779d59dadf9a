package reply_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// ranking is a ranking whose best candidate is c, at confidence conf.
func ranking(c retrieval.Candidate, conf float64) retrieval.Ranking {
	if c.Answer == "" {
		c.Answer = "An answer."
	}
	return retrieval.Ranking{Candidates: []retrieval.Candidate{c}, Confidence: conf}
}

func TestDecideRules(t *testing.T) {
	t.Parallel()
	settings := parley.DefaultSettings()
	settings.Languages = []string{"en", "de", "es"}
	settings.Sensitive = []string{"theft", "refund_dispute", "billing"}
	returns := retrieval.Candidate{GroupKey: "intent:returns", Intent: "returns", Tags: []string{"returns"}, Similarity: 0.72}
	errorE07 := retrieval.Candidate{GroupKey: "intent:error_e07", Intent: "error_e07", Similarity: 0.95,
		Answer: "Error E-07 means the speed sensor gets no signal."}
	dispute := retrieval.Candidate{GroupKey: "intent:refund_dispute", Intent: "refund_dispute", Tags: []string{"billing", "legal"}}
	tests := []struct {
		name   string
		text   string
		top    retrieval.Candidate
		conf   float64
		reason string // "" for answered
	}{
		// The topic is on the sensitive list but the knowledge only
		// has a non-sensitive entry near the question, in any language.
		{"theft in German, returns entry matches", "Mein Fahrrad wurde gestohlen", returns, 0.9, parley.ReasonSensitive},
		{"theft in Spanish", "Me han robado la bicicleta delante de casa", returns, 0.9, parley.ReasonSensitive},
		{"theft in English", "My bike was stolen from the garage", returns, 0.9, parley.ReasonSensitive},
		// A sensitive candidate that does not match is no reason.
		{"greeting near a sensitive entry", "hey there", withSim(dispute, 0.18), 0.6, parley.ReasonNoMatch},
		{"out of scope near a sensitive entry", "Do you sell office chairs?", withSim(dispute, 0.2), 0.6, parley.ReasonNoMatch},
		{"Spanish shipping question far from everything", "¿Cuánto cuesta el envío a Canarias?", withSim(dispute, 0.18), 0.7, parley.ReasonNoMatch},
		// A sensitive candidate that matches still escalates.
		{"sensitive candidate matches", "The charge on my statement is wrong and I want it reversed", withSim(dispute, 0.7), 0.9, parley.ReasonSensitive},
		{"sensitive candidate, weak guess", "What's the weather like in Leipzig tomorrow?", withSim(dispute, 0.28), 0.15, parley.ReasonLowConfidence},
		{"routine question answered", "How do I return my bike?", returns, 0.9, ""},
		{"routine question, low confidence", "How do I return my bike?", returns, 0.2, parley.ReasonLowConfidence},
		{"another error code", "error E-09 on my display", errorE07, 0.99, parley.ReasonLowConfidence},
		{"another error code in Spanish", "¿Qué significa el error E-04?", errorE07, 0.99, parley.ReasonLowConfidence},
		{"the same error code", "what does E07 mean?", errorE07, 0.99, ""},
		{"human in German", "Kann ich bitte mit einem Mitarbeiter sprechen?", returns, 0.9, parley.ReasonHumanRequested},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := reply.Decide(settings, reply.Bars{Floor: reply.DefaultMinSimilarity}, tt.text, nil, ranking(tt.top, tt.conf), 0)
			got := d.Reason
			if d.Answer {
				got = ""
			}
			if got != tt.reason {
				t.Fatalf("%q: reason %q (%s), want %q", tt.text, got, d.Explain, tt.reason)
			}
		})
	}
}

func withSim(c retrieval.Candidate, sim float64) retrieval.Candidate {
	c.Similarity = sim
	return c
}

// Sensitive topics are read from the customer's earlier messages too, and
// only for the entries the workspace lists.
func TestDecideSensitiveFromConversation(t *testing.T) {
	t.Parallel()
	s := parley.DefaultSettings()
	s.Languages = []string{"de"}
	s.Sensitive = []string{"legal"}
	history := []parley.Message{
		{Role: parley.RoleCustomer, Text: "Wenn das nicht bis Freitag erledigt ist, schalte ich meinen Anwalt ein."},
		{Role: parley.RoleBot, Text: "Das tut mir leid."},
	}
	top := retrieval.Candidate{GroupKey: "intent:delivery", Intent: "delivery", Similarity: 0.8}
	if d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, "Wann kommt das Paket?", history, ranking(top, 0.9), 0); d.Reason != parley.ReasonSensitive {
		t.Fatalf("a lawyer named earlier: %+v, want sensitive", d)
	}
	s.Sensitive = []string{"theft"}
	if d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, "Wann kommt das Paket?", history, ranking(top, 0.9), 0); !d.Answer {
		t.Fatalf("legal is not on the list: %+v, want an answer", d)
	}
}

// A rewording that leads back to the answer just given is a repeat; a
// short follow-up on the same topic is not.
func TestDecideSemanticRepeat(t *testing.T) {
	t.Parallel()
	meta, _ := json.Marshal(map[string]any{"kind": "answer", "group": "intent:returns"})
	history := []parley.Message{
		{Role: parley.RoleCustomer, Text: "How do I return my bike?"},
		{Role: parley.RoleBot, Text: "Print the label ...", Meta: meta},
	}
	top := retrieval.Candidate{GroupKey: "intent:returns", Intent: "returns", Similarity: 0.7}
	s := parley.DefaultSettings()
	for _, text := range []string{
		"I asked what I have to do to send the bicycle back to you",
		"Wie kann ich das Fahrrad an euch zurückschicken, bitte?",
	} {
		if d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, text, history, ranking(top, 0.9), 0.3); d.Reason != parley.ReasonRepeat {
			t.Errorf("%q: %+v, want repeat", text, d)
		}
	}
	if d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, "and the helmet?", history, ranking(top, 0.9), 0.3); !d.Answer {
		t.Errorf("short follow-up: %+v, want an answer", d)
	}
	other := retrieval.Candidate{GroupKey: "intent:delivery", Intent: "delivery", Similarity: 0.7}
	if d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, "How long does delivery to Austria take these days?", history, ranking(other, 0.9), 0.1); !d.Answer {
		t.Errorf("a new question: %+v, want an answer", d)
	}
}

func TestTopicOfAHumanRequest(t *testing.T) {
	t.Parallel()
	langs := []string{"en", "de"}
	q, prev := reply.Topic("My display shows error E-09 and the motor stops, can I speak to someone?", nil, langs)
	if strings.Contains(q, "speak") || !strings.Contains(q, "e-09") || prev != "" {
		t.Errorf("topic %q (previous %q), want the fault without the request", q, prev)
	}
	history := []parley.Message{
		{Role: parley.RoleCustomer, Text: "Mein Display zeigt den Fehler E-09"},
		{Role: parley.RoleBot, Text: "..."},
	}
	q, _ = reply.Topic("Ich möchte mit einem Mitarbeiter sprechen", history, langs)
	if !strings.Contains(q, "E-09") {
		t.Errorf("topic %q, want the earlier message's topic", q)
	}
	for _, text := range []string{"agent please", "I need to speak to a human", "Ich möchte bitte mit einem Mitarbeiter sprechen"} {
		if q, _ := reply.Topic(text, nil, langs); q != "" {
			t.Errorf("%q: topic %q, want none", text, q)
		}
	}
	for _, text := range []string{"Je voudrais parler à un conseiller", "Est-ce que je peux parler à quelqu'un, s'il vous plaît ?", "Vorrei parlare con un operatore"} {
		if q, _ := reply.Topic(text, nil, []string{"fr", "it"}); q != "" {
			t.Errorf("%q: topic %q, want none", text, q)
		}
	}
	if q, _ := reply.Topic("Je voudrais parler à un conseiller de ma facture", nil, []string{"fr"}); !strings.Contains(q, "facture") {
		t.Errorf("topic %q, want the bill", q)
	}
	q, prev = reply.Topic("and how long does that take?", history, langs)
	if q != "and how long does that take?" || prev != "Mein Display zeigt den Fehler E-09" {
		t.Errorf("a question: %q, %q; want itself and the previous question", q, prev)
	}
}

// An escalation without a match is not routed by a far candidate; a
// request for a person is routed by the conversation's topic.
func TestEscalationRouting(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, func(s *parley.WorkspaceSettings) {
		s.Sensitive = []string{"chargeback", "legal"}
		s.Languages = []string{"en", "de"}
	})
	ctx := context.Background()
	for _, team := range []string{"billing", "shipping"} {
		if _, err := db.CreateTeam(ctx, ws.ID, team); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []parley.NewRoutingRule{{MatchTag: "billing", Team: "billing"}, {MatchTag: "shipping", Team: "shipping"}} {
		if _, err := db.CreateRoutingRule(ctx, ws.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ text, team string }{
		{"zxqv blorf wibble", "support"}, // no match ("hey there" is small talk, answered)
		{"Do you sell office chairs?", "support"},
		{"How much does shipping to Belgium cost? I'd like to talk to a person about it.", "shipping"},
	}
	for _, tt := range tests {
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		if res.Escalation == nil || res.Escalation.Reason == parley.ReasonSensitive || res.Escalation.Team != tt.team {
			t.Errorf("%q: %s %+v, want escalated to %s, not as sensitive", tt.text, res.Status, res.Escalation, tt.team)
		}
	}
	// In German, after a question on shipping.
	first, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: "How much does shipping to Belgium cost?"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: first.ConversationID,
		Text: "Ich möchte mit einem Mitarbeiter sprechen."})
	if err != nil {
		t.Fatal(err)
	}
	if res.Escalation == nil || res.Escalation.Reason != parley.ReasonHumanRequested || res.Escalation.Team != "shipping" {
		t.Errorf("German request for a person: %s %+v, want escalated to shipping", res.Status, res.Escalation)
	}
}

// A confident answer whose nearest hit is farther than the workspace's
// calibrated similarity bar is not given: the question is likely about
// something the knowledge does not cover. The bar does not turn such a
// question into no match (the agent still gets the candidate), and
// without a bar (0) the confidence alone decides.
func TestDecideSimilarityBar(t *testing.T) {
	t.Parallel()
	s := parley.DefaultSettings()
	near := retrieval.Candidate{GroupKey: "intent:card_arrival", Intent: "card_arrival", Similarity: 0.82}
	far := withSim(near, 0.66)
	bars := reply.Bars{Floor: 0.3, Similarity: 0.74}
	for _, tt := range []struct {
		name   string
		top    retrieval.Candidate
		bars   reply.Bars
		answer bool
	}{
		{"near, over the bar", near, bars, true},
		{"confident but far", far, bars, false},
		{"far, no bar fitted", far, reply.Bars{Floor: 0.3}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := reply.Decide(s, tt.bars, "When will my new card arrive?", nil, ranking(tt.top, 0.99), 0)
			if d.Answer != tt.answer {
				t.Fatalf("answer %v (%s %s), want %v", d.Answer, d.Reason, d.Explain, tt.answer)
			}
			if !d.Answer && (d.Reason != parley.ReasonLowConfidence || !d.Scored) {
				t.Errorf("reason %q scored %v, want a scored low_confidence", d.Reason, d.Scored)
			}
		})
	}
}

// Harassment, medical emergencies, fraud in the customer's name and
// account deletion asked in the imperative are recognised in the
// customer's words, in English, French and Italian, although the
// knowledge's best match is a routine entry; questions about the same
// subjects that raise no such topic are answered.
func TestDecideSensitiveTopicsInEveryLanguage(t *testing.T) {
	t.Parallel()
	s := parley.DefaultSettings()
	s.Languages = []string{"en", "fr", "it"}
	s.Sensitive = []string{"fraud", "harassment", "medical_emergency", "delete_account"}
	routine := retrieval.Candidate{GroupKey: "intent:block_spam", Intent: "block_spam", Tags: []string{"calls"}, Similarity: 0.7}
	tests := []struct {
		text      string
		sensitive bool
	}{
		{"Someone keeps sending me threatening messages from different numbers", true},
		{"My ex is harassing me with calls every night", true},
		{"Je reçois des messages de harcèlement depuis un numéro inconnu", true},
		{"Qualcuno mi perseguita con telefonate e minacce", true},
		{"My father collapsed and isn't breathing, my phone won't call out", true},
		{"Mon fils a fait une crise cardiaque, j'ai besoin d'une ambulance", true},
		{"Mia madre sta male, devo chiamare un'ambulanza", true},
		{"Someone ordered a new SIM in my name", true},
		{"Quelqu'un a utilisé ma ligne sans mon autorisation", true},
		{"Supprimez mon compte et toutes mes données", true},
		{"Cancellate il mio account, per favore", true},
		{"How do I block spam calls?", false},
		{"Comment bloquer les appels indésirables ?", false},
		{"Come blocco le chiamate pubblicitarie?", false},
		{"Can I call emergency numbers without credit?", false},
	}
	for _, tt := range tests {
		d := reply.Decide(s, reply.Bars{Floor: reply.DefaultMinSimilarity}, tt.text, nil, ranking(routine, 0.9), 0)
		if got := d.Reason == parley.ReasonSensitive; got != tt.sensitive {
			t.Errorf("%q: %+v, want sensitive %v", tt.text, d, tt.sensitive)
		}
	}
}
