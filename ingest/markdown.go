package ingest

import (
	"regexp"
	"strings"
)

var (
	mdCommentRe   = regexp.MustCompile(`(?s)<!--.*?-->`)
	mdImageRe     = regexp.MustCompile(`!\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])`)
	mdLinkRe      = regexp.MustCompile(`\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])`)
	mdAutolinkRe  = regexp.MustCompile(`<((?:https?|mailto):[^>\s]+)>`)
	mdTagRe       = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>`)
	mdRefDefRe    = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*\S+`)
	mdRuleRe      = regexp.MustCompile(`^ {0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$`)
	mdSetextRe    = regexp.MustCompile(`^ {0,3}(=+|-+)\s*$`)
	mdTableRuleRe = regexp.MustCompile(`^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$`)
)

// markdownArticle cleans a Markdown file into a Body: headings become
// "#" lines (setext underlines too), links keep their text, images, HTML
// tags and comments, link definitions, rules and table separator rows go,
// code blocks stay between fences as they are. The title is the front
// matter's "title", else the first heading's text.
func markdownArticle(text string) (articleMeta, string) {
	meta, text := frontMatter(text)
	text = mdCommentRe.ReplaceAllString(text, "")
	var out []string
	fence := ""
	for _, line := range strings.Split(text, "\n") {
		if m := fenceMarker(line); m != "" && (fence == "" || m == fence) {
			if fence == "" {
				fence = m
			} else {
				fence = ""
			}
			out = append(out, line)
			continue
		}
		if fence != "" {
			out = append(out, line)
			continue
		}
		if level, heading, ok := parseHeading(line); ok {
			heading = markdownInline(heading)
			if meta.title == "" && heading != "" {
				meta.title = heading
			}
			out = append(out, "", strings.Repeat("#", level)+" "+heading, "")
			continue
		}
		if m := mdSetextRe.FindStringSubmatch(line); m != nil && len(out) > 0 && isSetextText(out[len(out)-1]) {
			level := 1
			if m[1][0] == '-' {
				level = 2
			}
			heading := collapseSpace(out[len(out)-1])
			if meta.title == "" {
				meta.title = heading
			}
			out[len(out)-1] = strings.Repeat("#", level) + " " + heading
			out = append(out, "")
			continue
		}
		switch {
		case mdRuleRe.MatchString(line):
			out = append(out, "")
		case mdTableRuleRe.MatchString(line) && strings.Contains(line, "|"):
			// a table's header separator row
		case mdRefDefRe.MatchString(line):
			// a link definition: the link text already stands in the prose
		default:
			out = append(out, markdownInline(line))
		}
	}
	return meta, squeezeBlankLines(out)
}

// isSetextText is true for a line a "===" or "---" underline makes a
// heading: plain text, not blank, not a list item, heading or quote.
func isSetextText(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|") {
		return false
	}
	return !strings.HasPrefix(t, "- ") && !strings.HasPrefix(t, "* ") && !strings.HasPrefix(t, "+ ")
}

// markdownInline removes link, image and HTML syntax from one line.
func markdownInline(line string) string {
	if !strings.ContainsAny(line, "[<") {
		return line
	}
	cleaned := mdImageRe.ReplaceAllString(line, "")
	cleaned = mdLinkRe.ReplaceAllString(cleaned, "$1")
	cleaned = mdAutolinkRe.ReplaceAllString(cleaned, "$1")
	cleaned = mdTagRe.ReplaceAllString(cleaned, "")
	if cleaned == line {
		return line
	}
	// Close the gaps left by what was removed, keeping the indentation.
	indent := len(cleaned) - len(strings.TrimLeft(cleaned, " "))
	return cleaned[:indent] + collapseSpace(cleaned[indent:])
}

// frontMatter reads a YAML front matter block ("---" lines around
// "key: value" lines) for title, url, language (or lang), intent and tags,
// and returns the text after it. Nested YAML is ignored.
func frontMatter(text string) (articleMeta, string) {
	var meta articleMeta
	if !strings.HasPrefix(text, "---\n") {
		return meta, text
	}
	rest := text[len("---\n"):]
	var block string
	for i, lines := 0, rest; i < 100; i++ {
		line, after, found := strings.Cut(lines, "\n")
		if line == "---" || line == "..." {
			block = rest[:len(rest)-len(lines)]
			text = after
			break
		}
		if !found {
			return meta, text // no closing line: not front matter
		}
		lines = after
	}
	if block == "" {
		return meta, text
	}
	for line := range strings.Lines(block) {
		key, value, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(key, " ") {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"'`)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "title":
			meta.title = value
		case "url", "permalink":
			meta.url = value
		case "language", "lang":
			meta.language = value
		case "intent":
			meta.intent = value
		case "tags":
			meta.tags = splitTags(strings.Trim(value, "[]"))
		}
	}
	return meta, text
}
