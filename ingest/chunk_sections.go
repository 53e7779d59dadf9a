package ingest

import "strings"

// section is the text under one heading of an article.
type section struct {
	path       []string // heading texts from the top level down
	paragraphs []string
}

// parseSections splits an article Body into sections at its headings and
// each section into paragraphs at blank lines. A fenced code block is one
// paragraph, blank lines and "#" lines inside it included.
func parseSections(body string) []section {
	type heading struct {
		level int
		text  string
	}
	var (
		sections []section
		stack    []heading
		cur      section
		para     []string
		fence    string
	)
	endParagraph := func() {
		if p := strings.TrimSpace(strings.Join(para, "\n")); p != "" {
			cur.paragraphs = append(cur.paragraphs, p)
		}
		para = para[:0]
	}
	endSection := func() {
		endParagraph()
		if len(cur.paragraphs) > 0 {
			sections = append(sections, cur)
		}
		cur = section{}
	}
	for line := range strings.SplitSeq(body, "\n") {
		if m := fenceMarker(line); m != "" && (fence == "" || m == fence) {
			if fence == "" {
				endParagraph()
				fence = m
			} else {
				fence = ""
			}
			para = append(para, line)
			if fence == "" {
				endParagraph()
			}
			continue
		}
		if fence != "" {
			para = append(para, line)
			continue
		}
		if level, text, ok := parseHeading(line); ok {
			endSection()
			for len(stack) > 0 && stack[len(stack)-1].level >= level {
				stack = stack[:len(stack)-1]
			}
			if text != "" {
				stack = append(stack, heading{level, text})
			}
			for _, h := range stack {
				cur.path = append(cur.path, h.text)
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			endParagraph()
			continue
		}
		para = append(para, unescapeMarkup(line))
	}
	endSection()
	return sections
}
