package prompts

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text sent to a model for translation or rewriting keeps some spans
// exactly: placeholders ({{name}}, %s, {0}), URLs and e-mail addresses,
// code, markdown markup, numbers and the workspace's glossary terms. Protect
// replaces each with a marker ⟦N⟧ the prompt tells the model to copy, and
// Restore puts them back, failing when the model lost or invented one.

// ProtectOptions choose what Protect keeps. Placeholders, URLs, e-mail
// addresses, code and glossary terms are always kept.
type ProtectOptions struct {
	Numbers  bool // digits: prices, dates, order numbers
	Markdown bool // heading and list markers, emphasis, link syntax
	Glossary []string
}

// Protected is a text with its protected spans replaced by markers.
type Protected struct {
	Text  string   // with markers
	spans []string // spans[i] is what marker ⟦i⟧ stands for
}

// Spans returns how many spans were protected.
func (p Protected) Spans() int { return len(p.spans) }

// HasWords reports whether anything is left to work on besides markers,
// spaces and punctuation.
func (p Protected) HasWords() bool {
	for _, r := range markerPattern.ReplaceAllString(p.Text, "") {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

var (
	markerPattern = regexp.MustCompile(`⟦\s*(\d+)\s*⟧`)
	// protectPatterns are always applied; markdownPatterns and
	// numberPattern when asked for.
	protectPatterns = []*regexp.Regexp{
		regexp.MustCompile("(?s)```.*?```"),                                                       // code block
		regexp.MustCompile("`[^`\n]+`"),                                                           // inline code
		regexp.MustCompile(`⟦[^⟧\n]{0,20}⟧`),                                                      // marker-like text already there
		regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'\x60]*[^\s<>"'\x60.,;:!?)\]]`),       // URL
		regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`),                 // e-mail
		regexp.MustCompile(`\{\{[^{}\n]{0,100}\}\}|\$\{[^{}\n]{0,100}\}|\{[A-Za-z0-9_.]{0,64}\}`), // {{name}}, ${name}, {0}, {name}
		regexp.MustCompile(`%(?:\d+\$)?[-+#0]?\d*(?:\.\d+)?(?:[sdfiuxXeEgGcqvp]\b|@)`),            // printf verbs
		regexp.MustCompile(`<[A-Za-z/][^<>\n]{0,200}>`),                                           // HTML tags
	}
	markdownPatterns = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^[ \t]*(?:#{1,6}|[-*+>]|\d{1,3}[.)])[ \t]+`), // heading, list, quote
		regexp.MustCompile(`\*\*|__|~~`),                                     // emphasis
	}
	markdownLink  = regexp.MustCompile(`\[[^\]\n]{1,300}\]\([^)\s]{1,1000}\)`)
	numberPattern = regexp.MustCompile(`\d+(?:[.,:/-]\d+)*`)
)

type span struct{ start, end int }

// Protect replaces the spans to keep with markers.
func Protect(text string, opts ProtectOptions) Protected {
	var spans []span
	add := func(re *regexp.Regexp) {
		for _, m := range re.FindAllStringIndex(text, -1) {
			spans = append(spans, span{m[0], m[1]})
		}
	}
	for _, re := range protectPatterns {
		add(re)
	}
	if opts.Markdown {
		for _, re := range markdownPatterns {
			add(re)
		}
		// A link keeps its text translatable: "[" and "](url)" are kept.
		for _, m := range markdownLink.FindAllStringIndex(text, -1) {
			mid := strings.LastIndex(text[m[0]:m[1]], "](") + m[0]
			spans = append(spans, span{m[0], m[0] + 1}, span{mid, m[1]})
		}
	}
	if opts.Numbers {
		add(numberPattern)
	}
	spans = append(spans, glossarySpans(text, opts.Glossary)...)

	// Earliest first; of two starting together, the longer.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var (
		b    strings.Builder
		p    Protected
		last int
	)
	for _, s := range spans {
		if s.start < last || s.start == s.end {
			continue // overlaps a span already kept
		}
		b.WriteString(text[last:s.start])
		b.WriteString(marker(len(p.spans)))
		p.spans = append(p.spans, text[s.start:s.end])
		last = s.end
	}
	b.WriteString(text[last:])
	p.Text = b.String()
	return p
}

func marker(i int) string { return "⟦" + strconv.Itoa(i) + "⟧" }

// glossarySpans finds the glossary terms in text, case-insensitively and as
// whole words.
func glossarySpans(text string, terms []string) []span {
	var alts []string
	for _, t := range terms {
		if t = strings.TrimSpace(t); t != "" {
			alts = append(alts, regexp.QuoteMeta(t))
		}
	}
	if len(alts) == 0 {
		return nil
	}
	sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
	re := regexp.MustCompile(`(?i)` + strings.Join(alts, "|"))
	var out []span
	for _, m := range re.FindAllStringIndex(text, -1) {
		before, _ := utf8.DecodeLastRuneInString(text[:m[0]])
		after, _ := utf8.DecodeRuneInString(text[m[1]:])
		if isWordRune(before) || isWordRune(after) {
			continue
		}
		out = append(out, span{m[0], m[1]})
	}
	return out
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// MarkerError says which protected spans a model's output lost or made up.
type MarkerError struct {
	Missing    []string // the spans whose markers are missing (or repeated)
	Unexpected []string // markers that stand for nothing
}

func (e *MarkerError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("lost or repeated %d protected span(s): %s", len(e.Missing), quoteAll(e.Missing)))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("added unknown marker(s) %s", strings.Join(e.Unexpected, ", ")))
	}
	return "the model " + strings.Join(parts, " and ")
}

func quoteAll(ss []string) string {
	const most = 5
	var q []string
	for i, s := range ss {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(ss)-most))
			break
		}
		q = append(q, strconv.Quote(s))
	}
	return strings.Join(q, ", ")
}

// Restore replaces the markers in out (the model's answer) with the spans
// they stand for. Every marker must appear exactly once; otherwise it
// returns a *MarkerError and no text.
func (p Protected) Restore(out string) (string, error) {
	seen := make([]int, len(p.spans))
	var unexpected []string
	restored := markerPattern.ReplaceAllStringFunc(out, func(m string) string {
		i, err := strconv.Atoi(markerPattern.FindStringSubmatch(m)[1])
		if err != nil || i >= len(p.spans) {
			unexpected = append(unexpected, m)
			return m
		}
		seen[i]++
		return p.spans[i]
	})
	var missing []string
	for i, n := range seen {
		if n != 1 {
			missing = append(missing, p.spans[i])
		}
	}
	if len(missing) > 0 || len(unexpected) > 0 {
		return "", &MarkerError{Missing: missing, Unexpected: unexpected}
	}
	return restored, nil
}
