package prompts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrLeaked is wrapped by CleanOutput's error: the model's text still
// holds a piece of the prompt's machinery.
var ErrLeaked = errors.New("the model's answer holds prompt markers")

var (
	// echoedFence matches a whole data-block marker a model copied from
	// the prompt, with the blanks around it on its line.
	echoedFence = regexp.MustCompile(`[ \t]*<<<(?:DATA|END) [^<>\n]*>>>[ \t]*`)
	// intro matches a first line that only announces the result: "Here is
	// the translation:", "Sure! Here's the rewritten text:", "Summary:".
	intro = regexp.MustCompile(`(?i)^\W*(?:(?:sure|certainly|of course|okay|ok)\b[!,.]?\s*)?` +
		`(?:(?:here(?:'s| is| are)|below is|this is)\b[^\n]{0,80}|(?:the )?(?:translation|translated text|rewritten text|rewrite|improved text|summary|result))\s*:\s*$`)
)

// CleanOutput returns what a model wrote for a text task without the
// wrapping some models add: data-block markers echoed from the prompt
// (<<<DATA ...>>>, <<<END ...>>>) and a first line that only introduces the
// result ("Here is the translation:"). That line is kept when the input,
// the text the model worked on, starts with such a line itself. An error
// wrapping ErrLeaked reports what is left of the prompt's machinery after
// that (a broken marker, a chat-template control token that the input did
// not hold): such text must not reach a customer, so the caller asks again
// or fails.
func CleanOutput(output, input string) (string, error) {
	text := echoedFence.ReplaceAllString(output, "\n")
	text = strings.TrimSpace(text)
	if first, rest, ok := strings.Cut(text, "\n"); ok && intro.MatchString(first) && !startsWithIntro(input) {
		text = strings.TrimSpace(rest)
	}
	text = blankRuns.ReplaceAllString(text, "\n\n")
	for _, re := range []*regexp.Regexp{fakeMarker, controlToken} {
		if m := re.FindString(text); m != "" && !strings.Contains(input, m) {
			return "", leakError(m)
		}
	}
	return text, nil
}

// blankRuns matches the blank lines that removed markers leave.
var blankRuns = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

func startsWithIntro(input string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(input), "\n")
	return intro.MatchString(first)
}

type leakError string

func (e leakError) Error() string { return fmt.Sprintf("%v: %q", ErrLeaked, string(e)) }
func (e leakError) Unwrap() error { return ErrLeaked }
