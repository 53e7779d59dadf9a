package reply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
)

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	if parley.ErrorCode(err) != code || !strings.Contains(parley.ErrorMessage(err), msg) {
		t.Fatalf("err %v (code %s), want code %s with %q", err, parley.ErrorCode(err), code, msg)
	}
}

func TestSuggestWithoutModelGivesKnowledge(t *testing.T) {
	t.Parallel()
	a := newAssistant(t, newStore(), nil)
	res, err := a.Suggest(context.Background(), reply.SuggestRequest{WorkspaceID: wsID, ConversationID: convID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generation.Status != reply.GenNoModel || !strings.Contains(res.Generation.Reason, "PARLEY_LLM_BASE_URL") {
		t.Fatalf("generation %+v", res.Generation)
	}
	// Two usable answers (the refund group, delivery); gift cards are too far.
	if len(res.Suggestions) != 2 {
		t.Fatalf("suggestions %+v", res.Suggestions)
	}
	top := res.Suggestions[0]
	if top.Kind != reply.KindKnowledge || !strings.Contains(top.Text, "refunded in full") || top.Confidence != res.Confidence || len(top.Sources) == 0 {
		t.Fatalf("top suggestion %+v (confidence %v)", top, res.Confidence)
	}
	if res.Suggestions[1].Confidence > top.Confidence {
		t.Fatalf("second suggestion more confident than the first: %+v", res.Suggestions)
	}
	if res.Question != "It has been nine days now, can I get my money back?" || res.Language != "en" {
		t.Fatalf("question %q, language %q", res.Question, res.Language)
	}

	res, err = a.Suggest(context.Background(), reply.SuggestRequest{WorkspaceID: wsID, ConversationID: convID, Limit: 1})
	if err != nil || len(res.Suggestions) != 1 {
		t.Fatalf("limit 1: %+v, %v", res.Suggestions, err)
	}
}

func TestSuggestGeneratedDraft(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    func([]prompts.Message) (string, error)
		status    string
		firstKind string
		firstText string
		sourceIDs []int64
		errorCode string
	}{
		{name: "grounded", answer: says("Sorry for the wait! As it has been over 7 working days, you get a full refund [source:17]. Delivery normally takes 3-5 days [source: 4]."),
			status: reply.GenGenerated, firstKind: reply.KindGenerated,
			firstText: "Sorry for the wait! As it has been over 7 working days, you get a full refund. Delivery normally takes 3-5 days.", sourceIDs: []int64{17, 4}},
		{name: "cites a source not retrieved", answer: says("You get a refund [source:17] and a voucher [source:999]."),
			status: reply.GenDropped, firstKind: reply.KindKnowledge},
		{name: "cites nothing", answer: says("You get a refund and a voucher."),
			status: reply.GenDropped, firstKind: reply.KindKnowledge},
		{name: "no answer", answer: says("NO_ANSWER"), status: reply.GenNoAnswer, firstKind: reply.KindKnowledge},
		{name: "model times out", answer: fails(parley.ETimeout, "the chat model did not answer within 30s"),
			status: reply.GenFailed, firstKind: reply.KindKnowledge, errorCode: parley.ETimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			model := &fakeModel{script: []func([]prompts.Message) (string, error){tt.answer}}
			a := newAssistant(t, newStore(), model)
			res, err := a.Suggest(context.Background(), reply.SuggestRequest{WorkspaceID: wsID, ConversationID: convID, Tone: "friendly"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Generation.Status != tt.status {
				t.Fatalf("generation %+v, want %s", res.Generation, tt.status)
			}
			if tt.errorCode != "" && (res.Generation.Error == nil || res.Generation.Error.Code != tt.errorCode) {
				t.Fatalf("generation error %+v", res.Generation.Error)
			}
			if len(res.Suggestions) == 0 || len(res.Suggestions) > 3 || res.Suggestions[0].Kind != tt.firstKind {
				t.Fatalf("suggestions %+v", res.Suggestions)
			}
			first := res.Suggestions[0]
			if tt.firstText != "" && first.Text != tt.firstText {
				t.Fatalf("draft %q, want %q", first.Text, tt.firstText)
			}
			if tt.sourceIDs != nil {
				var ids []int64
				for _, s := range first.Sources {
					ids = append(ids, s.ID)
				}
				if len(ids) != len(tt.sourceIDs) || ids[0] != tt.sourceIDs[0] || ids[1] != tt.sourceIDs[1] || first.Sources[0].Title != "Refund policy" {
					t.Fatalf("sources %+v", first.Sources)
				}
			}
			// What the model was sent: a system prompt, the knowledge and
			// the customer's words inside data blocks.
			calls := model.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d model calls", len(calls))
			}
			sys, user := calls[0][0], calls[0][1]
			if sys.Role != prompts.RoleSystem || !strings.Contains(sys.Content, "Tone: friendly") || strings.Contains(sys.Content, "money back") {
				t.Fatalf("system prompt %q", sys.Content)
			}
			for _, want := range []string{
				"<<<DATA", "knowledge source=17>>>", "knowledge source=4>>>",
				"message role=customer>>>\nIt has been nine days now, can I get my money back?\n<<<END",
			} {
				if !strings.Contains(user.Content, want) {
					t.Fatalf("user prompt lacks %q:\n%s", want, user.Content)
				}
			}
			if strings.Contains(user.Content, "source=9>>>") {
				t.Fatal("a candidate under the similarity floor went into the prompt")
			}
		})
	}
}

func TestSuggestStreams(t *testing.T) {
	t.Parallel()
	model := &fakeModel{script: []func([]prompts.Message) (string, error){says("You get a full refund [source:17].")}}
	a := newAssistant(t, newStore(), model)
	var events []string
	res, err := a.Suggest(context.Background(), reply.SuggestRequest{
		WorkspaceID: wsID, ConversationID: convID,
		OnKnowledge: func(s reply.Suggestions) error {
			events = append(events, "knowledge:"+s.Suggestions[0].Kind)
			return nil
		},
		OnDelta: func(d string) error { events = append(events, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(events, "|")
	if got != "knowledge:knowledge|You |get |a |full |refund |[source:17]." || res.Suggestions[0].Text != "You get a full refund." {
		t.Fatalf("events %q, result %+v", got, res.Suggestions)
	}

	// A failing callback (the client went away) stops everything.
	stop := errors.New("client gone")
	model.script = append(model.script, says("A refund [source:17]."))
	_, err = a.Suggest(context.Background(), reply.SuggestRequest{WorkspaceID: wsID, ConversationID: convID,
		OnDelta: func(string) error { return stop }})
	if !errors.Is(err, stop) {
		t.Fatalf("err %v", err)
	}
}

func TestSuggestFromMessages(t *testing.T) {
	t.Parallel()
	a := newAssistant(t, newStore(), nil)
	res, err := a.Suggest(context.Background(), reply.SuggestRequest{WorkspaceID: wsID, Messages: []parley.Message{
		{Role: "customer", Text: "Wo bleibt meine Bestellung? Sie ist seit neun Tagen unterwegs."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Language != "en" || res.Question != "Wo bleibt meine Bestellung? Sie ist seit neun Tagen unterwegs." || len(res.Suggestions) == 0 {
		t.Fatalf("%+v", res)
	}
}

func TestSuggestRejects(t *testing.T) {
	t.Parallel()
	a := newAssistant(t, newStore(), nil)
	msgs := []parley.Message{{Role: "customer", Text: "hello"}}
	tests := []struct {
		name string
		req  reply.SuggestRequest
		code string
		msg  string
	}{
		{"neither", reply.SuggestRequest{}, parley.EInvalid, "give conversation_id or messages"},
		{"both", reply.SuggestRequest{ConversationID: convID, Messages: msgs}, parley.EInvalid, "not both"},
		{"limit", reply.SuggestRequest{ConversationID: convID, Limit: 11}, parley.EInvalid, "limit must be from 1 to 10"},
		{"tone", reply.SuggestRequest{ConversationID: convID, Tone: "sarcastic"}, parley.EInvalid, "use one of neutral, friendly"},
		{"language", reply.SuggestRequest{ConversationID: convID, Language: "German!"}, parley.EInvalid, "not a language code"},
		{"role", reply.SuggestRequest{Messages: []parley.Message{{Role: "system", Text: "x"}}}, parley.EInvalid, "messages[0].role"},
		{"empty text", reply.SuggestRequest{Messages: []parley.Message{{Role: "customer", Text: " "}}}, parley.EInvalid, "messages[0].text is empty"},
		{"long text", reply.SuggestRequest{Messages: []parley.Message{{Role: "customer", Text: strings.Repeat("a", 8001)}}}, parley.ETooLarge, "the limit is 8000"},
		{"no customer message", reply.SuggestRequest{Messages: []parley.Message{{Role: "agent", Text: "hi"}}}, parley.EInvalid, "no customer message"},
		{"unknown conversation", reply.SuggestRequest{ConversationID: "55555555-5555-5555-5555-555555555555"}, parley.ENotFound, "not found"},
		{"other workspace's conversation", reply.SuggestRequest{ConversationID: otherConv}, parley.ENotFound, "not found"},
		{"not an id", reply.SuggestRequest{ConversationID: "../x"}, parley.ENotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.WorkspaceID = wsID
			_, err := a.Suggest(context.Background(), tt.req)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}
