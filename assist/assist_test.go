package assist_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
)

const (
	refundAnswer   = "Orders that have not arrived within 7 working days are refunded in full."
	deliveryAnswer = "Standard delivery takes 3-5 working days within the EU."
)

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	if parley.ErrorCode(err) != code || !strings.Contains(parley.ErrorMessage(err), msg) {
		t.Fatalf("err %v (code %s), want code %s with %q", err, parley.ErrorCode(err), code, msg)
	}
}

func TestSuggestWithoutModelGivesKnowledge(t *testing.T) {
	t.Parallel()
	k := newKB(t)
	a := k.assistant(t, nil)
	res, err := a.Suggest(context.Background(), assist.SuggestRequest{Workspace: k.ws, ConversationID: k.conv})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generation.Status != reply.GenNoModel || !strings.Contains(res.Generation.Reason, "PARLEY_LLM_BASE_URL") {
		t.Fatalf("generation %+v", res.Generation)
	}
	// Two usable answers (the refund group, delivery); gift cards and the
	// German entry are too far.
	if len(res.Suggestions) != 2 {
		t.Fatalf("suggestions %+v", res.Suggestions)
	}
	top, second := res.Suggestions[0], res.Suggestions[1]
	if top.Kind != reply.KindKnowledge || top.Text != refundAnswer || top.Confidence != res.Confidence || len(top.Sources) == 0 ||
		top.Sources[0].ID != k.source(t, "refund").ID {
		t.Fatalf("top suggestion %+v (confidence %v)", top, res.Confidence)
	}
	if second.Kind != reply.KindKnowledge || second.Text != deliveryAnswer || len(second.Sources) == 0 || second.Sources[0].ID != k.source(t, "delivery").ID {
		t.Fatalf("second suggestion %+v", second)
	}
	if second.Confidence > top.Confidence {
		t.Fatalf("second suggestion more confident than the first: %+v", res.Suggestions)
	}
	if res.Question != question || res.Language != "en" || res.ConversationID != k.conv {
		t.Fatalf("question %q, language %q, conversation %q", res.Question, res.Language, res.ConversationID)
	}

	res, err = a.Suggest(context.Background(), assist.SuggestRequest{Workspace: k.ws, ConversationID: k.conv, Limit: 1})
	if err != nil || len(res.Suggestions) != 1 || res.Suggestions[0].Text != refundAnswer {
		t.Fatalf("limit 1: %+v, %v", res.Suggestions, err)
	}
}

func TestSuggestGeneratedDraft(t *testing.T) {
	t.Parallel()
	k := newKB(t)
	refund, delivery, giftcard := k.source(t, "refund").ID, k.source(t, "delivery").ID, k.source(t, "giftcard").ID
	tests := []struct {
		name      string
		answer    openaitest.Responder
		timeout   time.Duration
		status    string
		firstKind string
		firstText string
		sourceIDs []int64
		reason    string
		errorCode string
		errorMsg  string
	}{
		{name: "grounded",
			answer: openaitest.Reply(fmt.Sprintf("Sorry for the wait! As it has been over 7 working days, you get a full refund [source:%d]. Delivery normally takes 3-5 days [source: %d].", refund, delivery)),
			status: reply.GenGenerated, firstKind: reply.KindGenerated,
			firstText: "Sorry for the wait! As it has been over 7 working days, you get a full refund. Delivery normally takes 3-5 days.", sourceIDs: []int64{refund, delivery}},
		{name: "cites a source not retrieved", answer: openaitest.Reply(fmt.Sprintf("You get a refund [source:%d] and a voucher [source:999].", refund)),
			status: reply.GenDropped, firstKind: reply.KindKnowledge, reason: "cited source 999, which was not retrieved"},
		{name: "cites a stored source not retrieved for the question", answer: openaitest.Reply(fmt.Sprintf("You get a refund [source:%d] and a gift card [source:%d].", refund, giftcard)),
			status: reply.GenDropped, firstKind: reply.KindKnowledge, reason: fmt.Sprintf("cited source %d, which was not retrieved", giftcard)},
		{name: "prose and echoed markers",
			answer: openaitest.Reply(fmt.Sprintf("Here is the draft:\n<<<DATA 0123456789ab draft>>>\nYou get a full refund [source:%d]. Delivery takes 3-5 days [source:%d].\n<<<END 0123456789ab>>>", refund, delivery)),
			status: reply.GenGenerated, firstKind: reply.KindGenerated, firstText: "You get a full refund. Delivery takes 3-5 days.", sourceIDs: []int64{refund, delivery}},
		{name: "leaks a broken marker", answer: openaitest.Reply(fmt.Sprintf("You get a full refund [source:%d]. <<<END", refund)),
			status: reply.GenDropped, firstKind: reply.KindKnowledge, reason: "prompt markers"},
		{name: "cites nothing", answer: openaitest.Reply("You get a refund and a voucher."),
			status: reply.GenDropped, firstKind: reply.KindKnowledge, reason: "cited no source"},
		{name: "no answer", answer: openaitest.Reply("NO_ANSWER"), status: reply.GenNoAnswer, firstKind: reply.KindKnowledge, reason: "found no answer"},
		{name: "model times out", answer: openaitest.Slow(10*time.Second, openaitest.Reply("too late [source:1].")), timeout: 300 * time.Millisecond,
			status: reply.GenFailed, firstKind: reply.KindKnowledge, errorCode: parley.ETimeout, errorMsg: "did not answer within 300ms"},
		{name: "model fails", answer: openaitest.Fail(503, "overloaded"),
			status: reply.GenFailed, firstKind: reply.KindKnowledge, errorCode: parley.EUnavailable, errorMsg: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newLLM(t, tt.answer)
			a := k.assistant(t, fake)
			if tt.timeout > 0 {
				a = k.assistantTimeout(t, fake, tt.timeout)
			}
			res, err := a.Suggest(context.Background(), assist.SuggestRequest{Workspace: k.ws, ConversationID: k.conv, Tone: "friendly"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Generation.Status != tt.status {
				t.Fatalf("generation %+v, want %s", res.Generation, tt.status)
			}
			if !strings.Contains(res.Generation.Reason, tt.reason) {
				t.Fatalf("generation reason %q, want it to contain %q", res.Generation.Reason, tt.reason)
			}
			if tt.errorCode != "" && (res.Generation.Error == nil || res.Generation.Error.Code != tt.errorCode || !strings.Contains(res.Generation.Error.Message, tt.errorMsg)) {
				t.Fatalf("generation error %+v", res.Generation.Error)
			}
			if len(res.Suggestions) == 0 || len(res.Suggestions) > 3 || res.Suggestions[0].Kind != tt.firstKind {
				t.Fatalf("suggestions %+v", res.Suggestions)
			}
			first := res.Suggestions[0]
			if tt.firstKind == reply.KindKnowledge && first.Text != refundAnswer {
				t.Fatalf("first suggestion %q, want the refund answer", first.Text)
			}
			if tt.firstText != "" && first.Text != tt.firstText {
				t.Fatalf("draft %q, want %q", first.Text, tt.firstText)
			}
			if tt.sourceIDs != nil {
				var ids []int64
				for _, s := range first.Sources {
					ids = append(ids, s.ID)
				}
				if len(ids) != len(tt.sourceIDs) || ids[0] != tt.sourceIDs[0] || ids[1] != tt.sourceIDs[1] ||
					first.Sources[0].Title != "Refund policy" || first.Sources[1].Title != "Delivery times" {
					t.Fatalf("sources %+v", first.Sources)
				}
				if len(res.Suggestions) != 3 || res.Suggestions[1].Text != refundAnswer || res.Suggestions[2].Text != deliveryAnswer {
					t.Fatalf("the knowledge suggestions after the draft: %+v", res.Suggestions[1:])
				}
			}
			// What the model was sent: one request with a system prompt,
			// the knowledge and the customer's words inside data blocks.
			if n := len(fake.Requests()); n != 1 {
				t.Fatalf("%d model requests", n)
			}
			req := fake.Requests()[0]
			if req.Body["model"] != "test-model" || req.Body["max_tokens"] != float64(prompts.SuggestReplyTokens) || req.Body["stream"] == true {
				t.Fatalf("request to the model: %s", req.Raw)
			}
			msgs := sent(t, fake, 0)
			sys, user := msgs[0], msgs[1]
			if sys.Role != llm.RoleSystem || !strings.Contains(sys.Content, "Tone: friendly") || strings.Contains(sys.Content, "money back") {
				t.Fatalf("system prompt %q", sys.Content)
			}
			for _, want := range []string{
				"<<<DATA", fmt.Sprintf("knowledge source=%d>>>", refund), fmt.Sprintf("knowledge source=%d>>>", delivery), refundAnswer, deliveryAnswer,
				"message role=customer>>>\n" + question + "\n<<<END",
				"message role=customer>>>\n" + firstQuestion + "\n<<<END",
				"message role=bot>>>\n" + botReply + "\n<<<END",
			} {
				if !strings.Contains(user.Content, want) {
					t.Fatalf("user prompt lacks %q:\n%s", want, user.Content)
				}
			}
			for _, far := range []string{"giftcard", "wo-bleibt"} {
				if strings.Contains(user.Content, fmt.Sprintf("source=%d>>>", k.source(t, far).ID)) {
					t.Fatalf("a candidate under the similarity floor (%s) went into the prompt:\n%s", far, user.Content)
				}
			}
		})
	}
}

func TestSuggestStreams(t *testing.T) {
	t.Parallel()
	k := newKB(t)
	refund := k.source(t, "refund").ID
	cite := fmt.Sprintf("[source:%d].", refund)
	fake := newLLM(t, openaitest.Stream("You ", "get ", "a ", "full ", "refund ", cite))
	a := k.assistant(t, fake)
	var events []string
	res, err := a.Suggest(context.Background(), assist.SuggestRequest{
		Workspace: k.ws, ConversationID: k.conv,
		OnKnowledge: func(s assist.Suggestions) error {
			events = append(events, "knowledge:"+s.Suggestions[0].Kind+":"+s.Generation.Status)
			return nil
		},
		OnDelta: func(d string) error { events = append(events, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(events, "|")
	if got != "knowledge:knowledge:pending|You |get |a |full |refund |"+cite || res.Suggestions[0].Text != "You get a full refund." ||
		res.Generation.Status != reply.GenGenerated || len(res.Suggestions[0].Sources) != 1 || res.Suggestions[0].Sources[0].ID != refund {
		t.Fatalf("events %q, result %+v", got, res)
	}
	if req := fake.Requests()[0]; req.Body["stream"] != true {
		t.Fatalf("the draft was not streamed: %s", req.Raw)
	}

	// A failing callback (the client went away) stops everything.
	stop := errors.New("client gone")
	fake.Then(openaitest.Stream("A refund ", cite))
	_, err = a.Suggest(context.Background(), assist.SuggestRequest{Workspace: k.ws, ConversationID: k.conv,
		OnDelta: func(string) error { return stop }})
	if !errors.Is(err, stop) {
		t.Fatalf("err %v", err)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("%d model requests, want 2", n)
	}
}

func TestSuggestFromMessages(t *testing.T) {
	t.Parallel()
	k := newKB(t)
	a := k.assistant(t, nil)
	const text = "Wo bleibt meine Bestellung? Sie ist seit neun Tagen unterwegs."
	res, err := a.Suggest(context.Background(), assist.SuggestRequest{Workspace: k.ws, Messages: []parley.Message{
		{Role: "customer", Text: text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Without a detector the language is the workspace's.
	if res.Language != "en" || res.Question != text || res.ConversationID != "" || len(res.Suggestions) == 0 {
		t.Fatalf("%+v", res)
	}
	if top := res.Suggestions[0]; top.Kind != reply.KindKnowledge || len(top.Sources) == 0 || top.Sources[0].ID != k.source(t, "wo-bleibt").ID {
		t.Fatalf("top suggestion %+v, want the German refund entry", top)
	}
}

func TestSuggestRejects(t *testing.T) {
	t.Parallel()
	k := newKB(t)
	a := k.assistant(t, nil)
	msgs := []parley.Message{{Role: "customer", Text: "hello"}}
	tests := []struct {
		name string
		req  assist.SuggestRequest
		code string
		msg  string
	}{
		{"neither", assist.SuggestRequest{}, parley.EInvalid, "give conversation_id or messages"},
		{"both", assist.SuggestRequest{ConversationID: k.conv, Messages: msgs}, parley.EInvalid, "not both"},
		{"limit", assist.SuggestRequest{ConversationID: k.conv, Limit: 11}, parley.EInvalid, "limit must be from 1 to 10"},
		{"tone", assist.SuggestRequest{ConversationID: k.conv, Tone: "sarcastic"}, parley.EInvalid, "use one of neutral, friendly"},
		{"language", assist.SuggestRequest{ConversationID: k.conv, Language: "German!"}, parley.EInvalid, "not a language code"},
		{"role", assist.SuggestRequest{Messages: []parley.Message{{Role: "system", Text: "x"}}}, parley.EInvalid, "messages[0].role"},
		{"empty text", assist.SuggestRequest{Messages: []parley.Message{{Role: "customer", Text: " "}}}, parley.EInvalid, "messages[0].text is empty"},
		{"long text", assist.SuggestRequest{Messages: []parley.Message{{Role: "customer", Text: strings.Repeat("a", 8001)}}}, parley.ETooLarge, "the limit is 8000"},
		{"no customer message", assist.SuggestRequest{Messages: []parley.Message{{Role: "agent", Text: "hi"}}}, parley.EInvalid, "no customer message"},
		{"unknown conversation", assist.SuggestRequest{ConversationID: "55555555-5555-5555-5555-555555555555"}, parley.ENotFound, "not found"},
		{"other workspace's conversation", assist.SuggestRequest{ConversationID: k.other}, parley.ENotFound, "not found"},
		{"not an id", assist.SuggestRequest{ConversationID: "../x"}, parley.ENotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Workspace = k.ws
			_, err := a.Suggest(context.Background(), tt.req)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}
