package reply_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
)

// Small talk in Italian, one of the workspace's languages: greetings,
// thanks and leave-taking, and not a question that starts with hello.
func TestSmallTalkInItalian(t *testing.T) {
	t.Parallel()
	langs := []string{"en", "it"}
	tests := []struct {
		text, kind string
	}{
		{"Buongiorno!", reply.TalkGreeting},
		{"grazie mille", reply.TalkThanks},
		{"Ciao, a presto", reply.TalkGoodbye},
		{"Buona serata e grazie", reply.TalkGoodbye},
		{"ciao, la mia SIM è bloccata", ""},
	}
	for _, tt := range tests {
		kind, lang := reply.SmallTalk(tt.text, langs, "it")
		if kind != tt.kind || (kind != "" && lang != "it") {
			t.Errorf("SmallTalk(%q) = %q, %q; want %q, it", tt.text, kind, lang, tt.kind)
		}
	}
}

func TestSmallTalkDetection(t *testing.T) {
	t.Parallel()
	langs := []string{"en", "de", "fr"}
	tests := []struct {
		text, kind, lang string
	}{
		{"Hello!", reply.TalkGreeting, "en"},
		{"hi", reply.TalkGreeting, "en"},
		{"ok thanks", reply.TalkThanks, "en"},
		{"Thank you so much!!", reply.TalkThanks, "en"},
		{"thanks, bye", reply.TalkGoodbye, "en"},
		{"Guten Tag", reply.TalkGreeting, "de"},
		{"Vielen Dank!", reply.TalkThanks, "de"},
		{"Tschüss", reply.TalkGoodbye, "de"},
		{"Merci beaucoup", reply.TalkThanks, "fr"},
		{"thanks, see you soon", reply.TalkGoodbye, "en"},
		{"bye, take care", reply.TalkGoodbye, "en"},
		{"Bonne soirée, au revoir", reply.TalkGoodbye, "fr"},
		{"Merci et à plus", reply.TalkGoodbye, "fr"},
		{"Bis später!", reply.TalkGoodbye, "de"},
		{"see you soon, my parcel never came", "", ""},
		{"hola", "", ""}, // Spanish is not a language of this workspace
		{"hi, where is my parcel?", "", ""},
		{"thanks but my order never arrived", "", ""},
		{"ok", "", ""}, // agreement alone says nothing to answer
		{"", "", ""},
	}
	for _, tt := range tests {
		kind, lang := reply.SmallTalk(tt.text, langs, "en")
		if kind != tt.kind || lang != tt.lang {
			t.Errorf("SmallTalk(%q) = %q, %q; want %q, %q", tt.text, kind, lang, tt.kind, tt.lang)
		}
	}
}

// Small talk is answered with the workspace's reply in the customer's
// language, neither escalated nor searched for.
func TestSmallTalkIsAnswered(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, func(s *parley.WorkspaceSettings) {
		s.Languages = []string{"en", "de"}
		s.SmallTalk = map[string]map[string]string{"en": {"thanks": "Anytime! The Bramble team"}}
	})
	ctx := context.Background()
	for _, tt := range []struct{ text, want string }{
		{"Hello!", "Hello! How can I help you today?"},
		{"ok thanks", "Anytime! The Bramble team"},
		{"Hallo", "Hallo! Wie kann ich Ihnen helfen?"},
	} {
		res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != reply.StatusSmallTalk || res.Escalation != nil || res.Answer == nil || res.Answer.Text != tt.want || res.State != parley.StateBot {
			t.Fatalf("%q: %+v, want the small-talk reply %q", tt.text, res, tt.want)
		}
		list, _, err := db.ListEscalations(ctx, ws.ID, parley.EscalationFilter{Limit: 10})
		if err != nil || len(list) != 0 {
			t.Fatalf("%q escalated: %v %v", tt.text, list, err)
		}
	}
}
