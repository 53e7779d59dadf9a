package prompts_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/prompts"
)

// words returns a text of about n tokens.
func words(n int, seed string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%d ", seed, i%10)
	}
	return b.String()
}

func TestSuggestPacksKnowledgeByRelevanceWithinBudget(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	tests := []struct {
		name       string
		context    int
		knowledge  []prompts.Knowledge
		wantPacked []int64 // source ids, in order
	}{
		{"all fit", 8192, []prompts.Knowledge{
			{SourceID: 1, Text: words(100, "a")}, {SourceID: 2, Text: words(100, "b")}}, []int64{1, 2}},
		{"best first until full", 1800, []prompts.Knowledge{
			{SourceID: 1, Text: words(200, "a")}, {SourceID: 2, Text: words(200, "b")}, {SourceID: 3, Text: words(200, "c")},
			{SourceID: 4, Text: words(200, "d")}, {SourceID: 5, Text: words(200, "e")}}, []int64{1, 2}},
		{"a large piece is skipped for smaller ones", 1500, []prompts.Knowledge{
			{SourceID: 1, Text: words(150, "a")}, {SourceID: 2, Text: words(800, "b")}, {SourceID: 3, Text: words(60, "c")}}, []int64{1, 3}},
		{"the best piece is truncated when it alone is too large", 1500, []prompts.Knowledge{
			{SourceID: 1, Text: words(1000, "a")}, {SourceID: 2, Text: words(1000, "b")}}, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRenderer(t, tt.context)
			p, err := r.Suggest(prompts.SuggestInput{Transcript: transcript, Knowledge: tt.knowledge, Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, k := range p.Knowledge {
				got = append(got, k.SourceID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantPacked) {
				t.Fatalf("packed %v, want %v", got, tt.wantPacked)
			}
			if n := tok.CountMessages(p.Messages); n != p.Tokens || n+p.MaxTokens > tt.context {
				t.Fatalf("prompt %d tokens (reported %d) + reply %d exceeds the context %d", n, p.Tokens, p.MaxTokens, tt.context)
			}
			for _, k := range p.Knowledge {
				if !strings.Contains(p.Messages[1].Content, fmt.Sprintf("knowledge source=%d>>>", k.SourceID)) {
					t.Fatalf("source %d packed but not in the prompt", k.SourceID)
				}
			}
		})
	}
}

func TestLongConversationsKeepTheLatestTurns(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	r := newRenderer(t, 2048)
	var turns []prompts.Turn
	for i := 0; i < 60; i++ {
		turns = append(turns, prompts.Turn{Role: "customer", Text: fmt.Sprintf("message %d: %s", i, words(60, "w"))})
	}
	p, err := r.Suggest(prompts.SuggestInput{Transcript: turns, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Turns == 0 || p.Turns >= 60 || !strings.Contains(p.Messages[1].Content, "message 59:") || strings.Contains(p.Messages[1].Content, "message 0:") {
		t.Fatalf("kept %d turns:\n%s", p.Turns, p.Messages[1].Content)
	}
	if n := tok.CountMessages(p.Messages); n > 2048-prompts.SuggestReplyTokens {
		t.Fatalf("prompt has %d tokens", n)
	}

	s, err := r.Summary(prompts.SummaryInput{Transcript: turns, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Turns == 0 || s.Turns >= 60 || !strings.Contains(s.Messages[1].Content, fmt.Sprintf("(%d earlier messages left out)", 60-s.Turns)) {
		t.Fatalf("summary kept %d turns:\n%s", s.Turns, s.Messages[1].Content)
	}
	if n := tok.CountMessages(s.Messages); n+s.MaxTokens > 2048 {
		t.Fatalf("summary prompt has %d tokens", n)
	}

	// One huge message is cut to fit.
	p, err = r.Suggest(prompts.SuggestInput{Transcript: []prompts.Turn{{Role: "customer", Text: words(1500, "x")}}, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if n := tok.CountMessages(p.Messages); n > 2048-prompts.SuggestReplyTokens {
		t.Fatalf("prompt has %d tokens", n)
	}
}

func TestTextPromptsBudgetTheReply(t *testing.T) {
	t.Parallel()
	tok := newTokenizer(t)
	r := newRenderer(t, 1024)
	text := words(150, "t")
	p, err := r.Translate(prompts.TranslateInput{Text: text, Source: "en", Target: "de"})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxTokens < tok.Count(text) || tok.CountMessages(p.Messages)+p.MaxTokens > 1024 {
		t.Fatalf("reply budget %d for %d tokens of text and a %d-token prompt", p.MaxTokens, tok.Count(text), p.Tokens)
	}
	_, err = r.Rewrite(prompts.RewriteInput{Text: words(400, "t"), Action: "expand", Language: "en"})
	if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), "context of 1024 tokens") {
		t.Fatalf("err %v, want invalid: too long", err)
	}
}
