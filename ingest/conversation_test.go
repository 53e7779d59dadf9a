package ingest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

func TestLoadConversations(t *testing.T) {
	t.Parallel()
	const convs = `{"id": "c-1", "intent": "refund", "tags": ["billing"], "language": "en", "messages": [{"role": "agent", "text": "Hi, how can I help?"}, {"role": "Customer", "text": "I was charged twice."}, {"role": "bot", "text": "Let me find an agent."}, {"role": "customer", "content": "Order A12345, card 4111 1111 1111 1111"}, {"role": "agent", "text": "Refunded the second charge.", "at": "2024-05-01T10:02:00Z"}, {"role": "customer", "text": "Thanks!"}, {"role": "agent", "text": "Anything else, mail me at sam@acme.example."}]}
{"id": "c-2", "messages": [{"role": "customer", "text": "Hello?"}, {"role": "bot", "text": "An agent will reply soon."}]}
{"id": 3, "resolution": "Re-sent the reset link; it was in spam.", "messages": [{"role": "customer", "text": "No reset e-mail. Call +44 20 7946 0958"}]}
{"id": "c-4", "messages": [{"role": "agent", "text": "We noticed a problem with your order."}]}
`
	docs, report, err := load(t, "convs.jsonl", convs, ingest.LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	checkDocs(t, docs, []ingest.Document{
		{
			ExternalID: "c-1", Kind: ingest.KindConversation, Intent: "refund", Language: "en", Tags: []string{"billing"},
			Question: "I was charged twice.\nOrder A12345, card [card]",
			Answer:   "Anything else, mail me at [email].",
			Origin:   "convs.jsonl:1",
		},
		{ExternalID: "3", Question: "No reset e-mail. Call [phone]", Answer: "Re-sent the reset link; it was in spam.", Origin: "convs.jsonl:3"},
	})
	c1 := docs[0]
	if len(c1.Transcript) != 7 || c1.Transcript[1].Role != parley.RoleCustomer || c1.Transcript[2].Role != parley.RoleBot {
		t.Errorf("transcript = %+v", c1.Transcript)
	}
	if want := time.Date(2024, 5, 1, 10, 2, 0, 0, time.UTC); !c1.Transcript[4].At.Equal(want) {
		t.Errorf("turn 4 at = %v, want %v", c1.Transcript[4].At, want)
	}
	if got := c1.Transcript[3].Text; strings.Contains(got, "4111") {
		t.Errorf("card number not masked in the transcript: %q", got)
	}
	wantSkipped := map[string]string{"convs.jsonl:2": "no agent reply", "convs.jsonl:4": "no customer message"}
	if len(report.Skipped) != len(wantSkipped) {
		t.Fatalf("skipped = %+v, want %v", report.Skipped, wantSkipped)
	}
	for _, s := range report.Skipped {
		if !strings.Contains(s.Reason, wantSkipped[s.Origin]) {
			t.Errorf("skipped %s: %q, want %q", s.Origin, s.Reason, wantSkipped[s.Origin])
		}
	}
}

func TestLoadConversationsKeepPII(t *testing.T) {
	t.Parallel()
	const conv = `{"id": "c", "messages": [{"role": "customer", "text": "I am jo@example.com"}, {"role": "agent", "text": "ok"}]}`
	docs, _, err := load(t, "c.jsonl", conv, ingest.LoadOptions{KeepPII: true})
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Question != "I am jo@example.com" {
		t.Errorf("Question = %q, want the e-mail kept", docs[0].Question)
	}
}

func TestLoadConversationsKind(t *testing.T) {
	t.Parallel()
	const conv = `[{"id": "c", "messages": [{"role": "customer", "text": "q"}, {"role": "agent", "text": "a"}]}]`
	tests := []struct {
		name string
		file string
		opts ingest.LoadOptions
	}{
		{"jsonl inferred from messages", "c.jsonl", ingest.LoadOptions{}},
		{"json with kind", "c.json", ingest.LoadOptions{Kind: ingest.KindConversation}},
		{"json inferred from messages", "c.json", ingest.LoadOptions{}},
		{"explicit format", "upload", ingest.LoadOptions{Format: ingest.FormatConversations}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			content := conv
			if strings.HasSuffix(tt.file, ".jsonl") {
				content = strings.Trim(conv, "[]")
			}
			docs, _, err := load(t, tt.file, content, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || docs[0].Kind != ingest.KindConversation {
				t.Errorf("docs = %+v, want one conversation", docs)
			}
		})
	}
}

func TestLoadConversationsErrors(t *testing.T) {
	t.Parallel()
	const ok = `{"id": "ok", "messages": [{"role": "customer", "text": "q"}, {"role": "agent", "text": "a"}]}` + "\n"
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"unknown role", ok + `{"id": "c", "messages": [{"role": "customer", "text": "q"}, {"role": "admin", "text": "a"}]}`, []string{`convs.jsonl:2: field "messages[1].role": unknown role "admin"`}},
		{"missing role", `{"id": "c", "messages": [{"text": "q"}]}`, []string{`field "messages[0].role": missing`}},
		{"missing id", ok + `{"messages": [{"role": "customer", "text": "q"}, {"role": "agent", "text": "a"}]}`, []string{`convs.jsonl:2: field "id": missing`}},
		{"missing messages", `{"id": "c"}`, []string{`field "messages": missing`}},
		{"messages not an array", `{"id": "c", "messages": "hi"}`, []string{`field "messages": want an array`}},
		{"message not an object", `{"id": "c", "messages": ["hi"]}`, []string{`field "messages[0]": want an object`}},
		{"bad time", `{"id": "c", "messages": [{"role": "customer", "text": "q", "at": "yesterday"}]}`, []string{`field "messages[0].at": want an RFC 3339 time`}},
		{"text is a number list", `{"id": "c", "messages": [{"role": "customer", "text": [1]}]}`, []string{`field "messages[0].text": want a string, got an array`}},
		{"duplicate id", ok + ok, []string{`convs.jsonl:2: field "id": duplicate id "ok" (also at convs.jsonl:1)`}},
		{"broken JSON", ok + `{"id": "c", "messages": [}` + "\n", []string{"convs.jsonl:2: invalid JSON"}},
		{"empty", "\n", []string{"empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, "convs.jsonl", tt.content, ingest.LoadOptions{Kind: ingest.KindConversation})
			wantInputError(t, err, tt.want...)
		})
	}
}
