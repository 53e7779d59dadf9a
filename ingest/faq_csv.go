package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// loadFAQCSV reads a FAQ spreadsheet saved as CSV: a header row, then one
// entry a row. The delimiter is "," unless the header has none and has ";"
// or tabs instead (spreadsheets saved in some locales). Quoted cells may
// span lines; rows may be shorter than the header (missing cells are empty).
func loadFAQCSV(data []byte, name string, opts LoadOptions, c *collector) error {
	text, err := requireText(data, name)
	if err != nil {
		return err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sniffDelimiter(text)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true

	header, err := r.Read()
	if err != nil {
		return csvError(err, name)
	}
	names := columnNames(opts.Columns)
	cols, err := mapHeader(header, name, names)
	if err != nil {
		return err
	}
	rows := 0
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return csvError(err, name)
		}
		line, _ := r.FieldPos(0)
		if blankRecord(record) {
			c.report.skip(at(name, line), "blank row")
			continue
		}
		rows++
		e := faqEntry{origin: at(name, line), values: make(map[string]string, len(cols)), columns: names}
		for field, i := range cols {
			if i < len(record) {
				e.values[field] = record[i]
			}
		}
		d, err := e.document()
		if err != nil {
			return err
		}
		if err := c.add(d); err != nil {
			return err
		}
	}
	if rows == 0 {
		return inputErrorf(name, "", "no entries: the file has a header row and no filled-in rows")
	}
	return nil
}

// sniffDelimiter looks at the header line only.
func sniffDelimiter(text string) rune {
	header, _, _ := strings.Cut(text, "\n")
	if strings.ContainsRune(header, ',') {
		return ','
	}
	if strings.ContainsRune(header, ';') {
		return ';'
	}
	if strings.ContainsRune(header, '\t') {
		return '\t'
	}
	return ','
}

// mapHeader returns the index of each field's column. The question column
// and the answer or intent column are required.
func mapHeader(header []string, name string, names map[string]string) (map[string]int, error) {
	index := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if _, dup := index[h]; dup {
			return nil, inputErrorf(at(name, 1), "", "column %q appears twice in the header", header[i])
		}
		index[h] = i
	}
	cols := make(map[string]int, len(names))
	for field, col := range names {
		if i, ok := index[col]; ok {
			cols[field] = i
		}
	}
	found := "the header has: " + quoteList(header)
	if _, ok := cols["question"]; !ok {
		return nil, inputErrorf(at(name, 1), "", "no %q column; %s (map another column with --column question=NAME)", names["question"], found)
	}
	_, hasAnswer := cols["answer"]
	_, hasIntent := cols["intent"]
	if !hasAnswer && !hasIntent {
		return nil, inputErrorf(at(name, 1), "", "no %q or %q column; %s (map another column with --column answer=NAME)", names["answer"], names["intent"], found)
	}
	return cols, nil
}

// quoteList lists names for a message, shortened so that a file read with
// the wrong delimiter does not produce a huge message.
func quoteList(items []string) string {
	const maxItems, maxLen = 20, 40
	if len(items) == 0 {
		return "nothing"
	}
	var quoted []string
	for i, s := range items {
		if i == maxItems {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(items)-maxItems))
			break
		}
		if r := []rune(s); len(r) > maxLen {
			s = string(r[:maxLen]) + "…"
		}
		quoted = append(quoted, strconv.Quote(s))
	}
	return strings.Join(quoted, ", ")
}

func blankRecord(record []string) bool {
	for _, v := range record {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// csvError turns a csv.ParseError into an *InputError naming the line.
func csvError(err error, name string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return inputErrorf(at(name, pe.Line), "", "malformed CSV: %v", pe.Err)
	}
	if errors.Is(err, io.EOF) {
		return inputErrorf(name, "", "empty file")
	}
	return inputErrorf(name, "", "read CSV: %v", err)
}
