package assist_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// With generate_answers on and a chat model, /v1/answer's engine answers
// with a grounded draft; a failing model escalates with model_error; a
// draft that strays from the sources leaves the stored answer.
func TestGeneratedAnswers(t *testing.T) {
	t.Parallel()
	const question = "My order has not arrived, can I get my money back?"
	const stored = "Orders that have not arrived within 7 working days are refunded in full."
	tests := []struct {
		name   string
		answer func(refund int64) openaitest.Responder
		status string
		kind   string
		text   string
		reason string
	}{
		{name: "grounded", answer: func(refund int64) openaitest.Responder {
			return openaitest.Reply(fmt.Sprintf("After 7 working days you get all your money back [source:%d].", refund))
		}, status: reply.StatusAnswered, kind: reply.KindGenerated, text: "After 7 working days you get all your money back."},
		{name: "strays from the sources", answer: func(int64) openaitest.Responder {
			return openaitest.Reply("You get a refund and a voucher [source:999].")
		}, status: reply.StatusAnswered, kind: reply.KindKnowledge, text: stored},
		{name: "model fails", answer: func(int64) openaitest.Responder { return openaitest.Fail(500, "boom") },
			status: reply.StatusEscalated, reason: parley.ReasonModelError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := pgtest.DB(t)
			k := newKB(t)
			s := k.ws.Settings
			s.GenerateAnswers, s.AnswerThreshold = true, 0
			ws, err := db.UpdateSettings(ctx, k.ws.ID, s)
			if err != nil {
				t.Fatal(err)
			}
			drafter := k.assistant(t, newLLM(t, tt.answer(k.source(t, "refund").ID))).Drafter
			engine := reply.New(db, retrieval.NewLocal(), reply.Options{Classifiers: db, Grounder: drafter})

			res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: question})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Decision.Explain, tt.status)
			}
			if tt.status == reply.StatusEscalated {
				if res.Escalation.Reason != tt.reason {
					t.Fatalf("reason %s, want %s", res.Escalation.Reason, tt.reason)
				}
				esc, err := db.Escalation(ctx, k.ws.ID, res.Escalation.ID)
				if err != nil || esc.Context.Draft != stored {
					t.Fatalf("escalation draft %q (err %v), want the stored answer", esc.Context.Draft, err)
				}
				return
			}
			if res.Answer.Kind != tt.kind || res.Answer.Text != tt.text || len(res.Answer.Sources) == 0 || res.Answer.Sources[0].ExternalID != "refund" {
				t.Fatalf("answer %+v, want %s %q citing refund", res.Answer, tt.kind, tt.text)
			}
			conv, err := db.Conversation(ctx, k.ws.ID, res.ConversationID, 10)
			if err != nil || len(conv.Messages) != 2 || conv.Messages[1].Text != tt.text {
				t.Fatalf("transcript %+v (err %v), want the answer given", conv.Messages, err)
			}
		})
	}
}

// With a chat model the engine can answer, draft and translate in any
// language, so a German question in an English-only workspace is told as
// German (the model, the notices and the agent's suggestions get it);
// without one the workspace's own language stands, and nothing is
// computed.
func TestWithAChatModelEveryLanguageIsDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	questions := []struct{ text, lang string }{
		{"Meine Bestellung ist nicht angekommen, wo ist mein Paket?", "de"},
		{"Mon colis n'est toujours pas arrivé, que dois-je faire ?", "fr"},
	}
	for _, withModel := range []bool{false, true} {
		k := newKB(t)
		if s := k.ws.Settings; len(s.Languages) != 1 || s.Languages[0] != "en" {
			t.Fatalf("workspace languages %v, want English only", s.Languages)
		}
		opts := reply.Options{Classifiers: pgtest.DB(t), Language: reply.NewLanguageDetector()}
		if withModel {
			opts.Grounder = k.assistant(t, newLLM(t)).Drafter
		}
		engine := reply.New(pgtest.DB(t), retrieval.NewLocal(), opts)
		for _, q := range questions {
			want := "en"
			if withModel {
				want = q.lang
			}
			res, err := engine.Answer(ctx, reply.Request{Workspace: k.ws, Text: q.text})
			if err != nil {
				t.Fatal(err)
			}
			if res.Language != want {
				t.Errorf("chat model %v: %q answered as %q, want %q", withModel, q.text, res.Language, want)
			}
			if got := engine.DetectLanguage(q.text, "en", k.ws.Settings); got != want {
				t.Errorf("chat model %v: %q detected for assist as %q, want %q", withModel, q.text, got, want)
			}
		}
	}
}
