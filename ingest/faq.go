package ingest

import (
	"fmt"
	"slices"
	"strings"
)

// The fields of a FAQ entry, in the order error messages list them.
var faqFields = []string{"question", "answer", "id", "intent", "tags", "language", "title", "url"}

// FAQFields returns the fields of a FAQ entry (the keys of a JSON record,
// the columns of a CSV file), in the order error messages list them.
func FAQFields() []string { return slices.Clone(faqFields) }

// ParseColumn reads a FIELD=COLUMN mapping as typed by a user
// ("question=text"): the field lower-cased, both trimmed, neither empty.
func ParseColumn(s string) (field, column string, err error) {
	field, column, ok := strings.Cut(s, "=")
	field, column = strings.ToLower(strings.TrimSpace(field)), strings.TrimSpace(column)
	if !ok || field == "" || column == "" {
		return "", "", fmt.Errorf("want FIELD=COLUMN, e.g. question=text; got %q", s)
	}
	return field, column, nil
}

// validateColumns checks a field→column mapping given by the user.
func validateColumns(cols map[string]string) error {
	for field, col := range cols {
		if !slices.Contains(faqFields, strings.ToLower(field)) {
			return inputErrorf("", "columns", "unknown field %q (known: %s)", field, strings.Join(faqFields, ", "))
		}
		if strings.TrimSpace(col) == "" {
			return inputErrorf("", "columns", "empty column name for field %q", field)
		}
	}
	return nil
}

// columnNames returns, for each FAQ field, the lower-cased name of the CSV
// column or JSON key that holds it.
func columnNames(cols map[string]string) map[string]string {
	names := make(map[string]string, len(faqFields))
	for _, f := range faqFields {
		names[f] = f
	}
	for field, col := range cols {
		names[strings.ToLower(field)] = strings.ToLower(strings.TrimSpace(col))
	}
	return names
}

// faqEntry is one FAQ record as read, before validation.
type faqEntry struct {
	origin  string            // "faq.csv:12"
	values  map[string]string // field → value
	tags    []string          // tags given as a JSON array; else split from values["tags"]
	columns map[string]string // field → column name, for messages
}

// document validates the entry and turns it into a Document.
func (e faqEntry) document() (Document, error) {
	d := Document{
		Kind:     KindFAQ,
		Question: cleanValue(e.values["question"]),
		Answer:   cleanValue(e.values["answer"]),
		Intent:   cleanValue(e.values["intent"]),
		Language: cleanValue(e.values["language"]),
		Title:    cleanValue(e.values["title"]),
		URL:      cleanValue(e.values["url"]),
		Origin:   e.origin,
	}
	if d.Question == "" {
		return Document{}, inputErrorf(e.origin, "question", "empty%s", e.columnNote("question"))
	}
	if d.Answer == "" && d.Intent == "" {
		return Document{}, inputErrorf(e.origin, "answer", "empty%s: an entry needs an answer or an intent", e.columnNote("answer"))
	}
	d.Tags = cleanTags(e.tags)
	if e.tags == nil {
		d.Tags = splitTags(e.values["tags"])
	}
	d.ExternalID = cleanValue(e.values["id"])
	if d.ExternalID == "" {
		d.ExternalID = faqExternalID(d.Question, d.Intent)
	}
	return d, nil
}

// columnNote names the column behind a field when it is not the field name.
func (e faqEntry) columnNote(field string) string {
	if col := e.columns[field]; col != "" && col != field {
		return fmt.Sprintf(" (column %q)", col)
	}
	return ""
}

// splitTags splits a tags cell on ";", "," or "|".
func splitTags(s string) []string {
	return cleanTags(strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == '|'
	}))
}

// cleanTags trims tags and drops empty and repeated ones, keeping the order.
func cleanTags(tags []string) []string {
	var out []string
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
