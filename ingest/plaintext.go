package ingest

import "strings"

// plainTextArticle takes the first non-empty line as the title when it is
// short (and leaves it out of the body), else no title. Lines that would
// read as headings or code fences are escaped.
func plainTextArticle(text string) (articleMeta, string) {
	lines := strings.Split(text, "\n")
	var meta articleMeta
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if t := collapseSpace(line); isShort(t) {
			meta.title = t
			lines = lines[i+1:]
		}
		break
	}
	for i, line := range lines {
		lines[i] = escapeMarkup(line)
	}
	return meta, squeezeBlankLines(lines)
}
