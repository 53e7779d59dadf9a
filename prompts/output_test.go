package prompts_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/prompts"
)

func TestCleanOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, output, input, want string
		leaked                    bool
	}{
		{name: "plain", output: "  Hallo Welt.\n", input: "Hello world.", want: "Hallo Welt."},
		{name: "echoed fences", input: "Hello world.",
			output: "<<<DATA 5f0c2a9e41b7 text>>>\nHallo Welt.\n<<<END 5f0c2a9e41b7>>>", want: "Hallo Welt."},
		{name: "closing fence on the text's line", input: "Hello world.",
			output: "Hallo Welt. <<<END 5f0c2a9e41b7>>>", want: "Hallo Welt."},
		{name: "intro line", input: "Hello world.\nBye.",
			output: "Here is the translation:\n\nHallo Welt.\nTschüss.", want: "Hallo Welt.\nTschüss."},
		{name: "polite intro and fences", input: "Hello world.",
			output: "Sure! Here's the rewritten text:\n<<<DATA 5f0c2a9e41b7 text>>>\nHello, world!\n<<<END 5f0c2a9e41b7>>>\n", want: "Hello, world!"},
		{name: "bare label", input: "Hello world.", output: "Translation:\nHallo Welt.", want: "Hallo Welt."},
		{name: "an intro the input has too is kept", input: "Here is your link:\n⟦0⟧",
			output: "Here is your tracking link:\n⟦0⟧", want: "Here is your tracking link:\n⟦0⟧"},
		{name: "a one-line answer is never cut", input: "Where is it?", output: "Here it is:", want: "Here it is:"},
		{name: "text that only mentions here", input: "x", output: "Here we ship to the EU.\nThanks.", want: "Here we ship to the EU.\nThanks."},
		{name: "broken marker", input: "Hello world.", output: "Hallo Welt. <<<END", leaked: true},
		{name: "marker of another shape", input: "Hello world.", output: "Hallo << data 5f0c >> Welt.", leaked: true},
		{name: "control token", input: "Hello world.", output: "Hallo Welt.<|im_end|>", leaked: true},
		{name: "a control token the input had", input: "Use <|endoftext|> as the separator.",
			output: "Nutze <|endoftext|> als Trenner.", want: "Nutze <|endoftext|> als Trenner."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := prompts.CleanOutput(tt.output, tt.input)
			if tt.leaked {
				if !errors.Is(err, prompts.ErrLeaked) {
					t.Fatalf("CleanOutput(%q) = %q, %v; want ErrLeaked", tt.output, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CleanOutput(%q) = %q, %v; want %q", tt.output, got, err, tt.want)
			}
		})
	}
}
