package reply_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
)

// loadBrizo ingests the brizo suite's one-phrasing FAQ (English, French,
// Italian) with the suite's settings and trains its classifier; the
// engine answers at the workspace's threshold setting (no calibration).
func loadBrizo(t *testing.T) (*reply.Engine, parley.Workspace) {
	t.Helper()
	db, ws, embedder := loadSuiteFAQ(t, "brizo")
	return reply.New(db, embedder, reply.Options{Language: reply.NewLanguageDetector(), Classifiers: db}), ws
}

// A short follow-up that the knowledge answers on its own is a new
// question: it is not pulled to the previous question's topic. One that
// needs the previous question ("is there a cheaper option?") still reads
// it. One that points back with a pronoun ("which of them have 5G?") keeps
// its own topic but is escalated when the previous question's reading
// names another entry.
func TestShortFollowUpOnItsOwnTopic(t *testing.T) {
	t.Parallel()
	engine, ws := loadBrizo(t)
	ctx := context.Background()
	for _, tt := range []struct{ previous, text, want string }{
		{"How can I pay my bill?", "and what if the payment bounces?", "failed_payment"},
		{"What plans do you offer?", "which of them have 5G?", "5g_access"},
		{"Comment résilier mon forfait ?", "et où sont vos boutiques ?", "shops"},
		{"Quali offerte avete?", "e come disdico il contratto?", "cancel_contract"},
		{"How much do calls to other countries cost?", "is there a cheaper option?", "international_calls"},
	} {
		first, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.previous})
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: first.ConversationID, Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		top, _ := res.Ranking.Top()
		t.Logf("%q after %q: %s, top %s at %.3f", tt.text, tt.previous, res.Status, top.Intent, res.Confidence)
		if top.Intent != tt.want {
			t.Errorf("%q after %q: top %s (%s), want %s", tt.text, tt.previous, top.Intent, res.Status, tt.want)
		}
	}
}

// A short follow-up that asks about something the previous topic's entry
// does not say ("and for pensioners?" after the plans) is a new question:
// read with the previous question it finds that entry, but it must not
// borrow the previous question's confidence and be answered from it. The
// students' discount is in the English knowledge only, so the French and
// Italian questions about it have no entry in their language.
func TestFollowUpOnANewTopicIsNotAnsweredFromThePreviousEntry(t *testing.T) {
	t.Parallel()
	engine, ws := loadBrizo(t)
	ctx := context.Background()
	for _, tt := range []struct{ previous, text string }{
		{"What plans do you offer?", "and for pensioners?"},
		{"Quels forfaits proposez-vous ?", "et pour les étudiants ?"},
		{"Quali offerte avete?", "e c'è uno sconto per studenti?"},
		{"Come disdico il mio contratto?", "c'è un periodo minimo?"},
	} {
		first, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.previous})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := first.Ranking.Top()
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: first.ConversationID, Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		top, _ := res.Ranking.Top()
		t.Logf("%q after %q (%s): %s, top %s at %.3f", tt.text, tt.previous, before.Intent, res.Status, top.Intent, res.Confidence)
		if res.Status == reply.StatusAnswered && top.Intent == before.Intent {
			t.Errorf("%q after %q: answered from the previous topic %s at %.3f, want an escalation or another entry",
				tt.text, tt.previous, top.Intent, res.Confidence)
		}
	}
}

// The language an answer reports and its conversation keeps (for the
// handoff notice, later messages' search and agents) is one the workspace
// serves, or English: brizo serves English, French and Italian, so an
// English question with a Dutch-looking word is English (over all ten
// languages it is taken for Dutch, and would get the Dutch notice).
func TestAnswerLanguageIsOneTheWorkspaceServes(t *testing.T) {
	t.Parallel()
	engine, ws := loadBrizo(t)
	ctx := context.Background()
	for _, tt := range []struct{ text, want string }{
		{"pls send me the factuur", "en"},
		{"Ma facture est plus chère ce mois-ci, pourquoi ?", "fr"},
		{"Perché la bolletta di questo mese è più alta?", "it"},
	} {
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		conv, err := engine.History(ctx, ws.ID, res.ConversationID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Language != tt.want || conv.Language != tt.want {
			t.Errorf("%q: answered in %q, conversation in %q, want %q", tt.text, res.Language, conv.Language, tt.want)
		}
	}
}
