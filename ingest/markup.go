package ingest

import (
	"regexp"
	"strings"
)

// An article Body is light Markdown: "#" lines are headings, text between
// ``` (or ~~~) fence lines is code, blank lines separate paragraphs. The
// loaders write it and the chunker reads it with these helpers, so both
// agree on what a heading is.

var headingRe = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)

// parseHeading reports whether line is a heading, with its level and text
// (closing "#"s removed).
func parseHeading(line string) (level int, text string, ok bool) {
	m := headingRe.FindStringSubmatch(line)
	if m == nil {
		return 0, "", false
	}
	text = strings.TrimSpace(strings.TrimRight(m[2], "#"))
	if strings.HasSuffix(m[2], "#") && !strings.HasSuffix(strings.TrimRight(m[2], "#"), " ") && text != "" {
		text = strings.TrimSpace(m[2]) // "C#" is not a closing sequence
	}
	return len(m[1]), text, true
}

// fenceMarker returns "```" or "~~~" when line opens or closes a code fence.
func fenceMarker(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, m := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, m) {
			return m
		}
	}
	return ""
}

// escapeMarkup keeps a line of plain text from reading as a heading or a
// fence in a Body.
func escapeMarkup(line string) string {
	if _, _, ok := parseHeading(line); ok || fenceMarker(line) != "" {
		return `\` + strings.TrimLeft(line, " ")
	}
	return line
}

// unescapeMarkup undoes escapeMarkup (and the same Markdown escape typed
// by an author) for a line of text outside code.
func unescapeMarkup(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(t) > 1 && t[0] == '\\' && strings.IndexByte("#`~", t[1]) >= 0 {
		return t[1:]
	}
	return line
}

// squeezeBlankLines trims trailing spaces, drops leading and trailing blank
// lines and keeps at most one blank line in a row, except inside fences.
func squeezeBlankLines(lines []string) string {
	var out []string
	fence := ""
	for _, line := range lines {
		line = strings.TrimRight(line, " \t")
		if m := fenceMarker(line); m != "" && (fence == "" || m == fence) {
			if fence == "" {
				fence = m
			} else {
				fence = ""
			}
		} else if fence == "" && line == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, line)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}
