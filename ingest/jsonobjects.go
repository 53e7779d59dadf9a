package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonObject is one object of a JSON or JSON Lines file.
type jsonObject struct {
	line   int                        // 1-based line where the object starts
	fields map[string]json.RawMessage // keys lower-cased
}

// readJSONObjects calls fn for each object of text, which is either a JSON
// array of objects or JSON Lines (one object a line, blank lines allowed).
// Syntax errors are reported with the line they are on.
func readJSONObjects(text, name string, fn func(jsonObject) error) error {
	trimmed := strings.TrimLeft(text, " \t\n")
	if strings.HasPrefix(trimmed, "[") {
		return readJSONArray(text, name, fn)
	}
	return readJSONLines(text, name, fn)
}

func readJSONArray(text, name string, fn func(jsonObject) error) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the "["
		return jsonError(err, name, text, 1, 1)
	}
	lines := lineCounter{text: text}
	for i := 0; dec.More(); i++ {
		line := lines.at(nextValueOffset(text, int(dec.InputOffset())))
		var fields map[string]json.RawMessage
		if err := dec.Decode(&fields); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return inputErrorf(at(name, line), "", "array element %d is a JSON %s, not an object", i+1, te.Value)
			}
			return jsonError(err, name, text, 1, line)
		}
		if err := fn(jsonObject{line: line, fields: lowerKeys(fields)}); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the "]"
		return jsonError(err, name, text, 1, lineOfOffset(text, int(dec.InputOffset())))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inputErrorf(at(name, lineOfOffset(text, nextValueOffset(text, int(dec.InputOffset())))), "", "invalid JSON: unexpected data after the closing ]")
	}
	return nil
}

func readJSONLines(text, name string, fn func(jsonObject) error) error {
	line := 0
	for raw := range strings.Lines(text) {
		line++
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if !strings.HasPrefix(raw, "{") {
			return inputErrorf(at(name, line), "", "invalid JSON Lines: want one JSON object per line, starting with {")
		}
		var fields map[string]json.RawMessage
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			if raw == "{" {
				return inputErrorf(at(name, line), "", "invalid JSON Lines: an object spans several lines; put each object on one line, or wrap the objects in a JSON array")
			}
			return jsonError(err, name, raw, line, line)
		}
		if dec.More() {
			return inputErrorf(at(name, line), "", "invalid JSON Lines: more than one value on the line")
		}
		if err := fn(jsonObject{line: line, fields: lowerKeys(fields)}); err != nil {
			return err
		}
	}
	return nil
}

// jsonError reports a decoding error at the line it is on. text is what the
// error's offset counts in; it starts on line first of the file; fallback is
// the line to name when the error has no offset.
func jsonError(err error, name, text string, first, fallback int) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return inputErrorf(at(name, first-1+lineOfOffset(text, int(se.Offset))), "", "invalid JSON: %v", se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return inputErrorf(at(name, first-1+lineOfOffset(text, len(text))), "", "invalid JSON: unexpected end of file")
	}
	return inputErrorf(at(name, fallback), "", "invalid JSON: %v", err)
}

// lineCounter gives the line of increasing offsets in text, counting each
// newline once.
type lineCounter struct {
	text string
	off  int // offset counted up to
	line int // newlines before off
}

func (l *lineCounter) at(off int) int {
	off = min(max(off, l.off), len(l.text))
	l.line += strings.Count(l.text[l.off:off], "\n")
	l.off = off
	return l.line + 1
}

// nextValueOffset skips white space and a comma from off.
func nextValueOffset(text string, off int) int {
	for off < len(text) && strings.IndexByte(" \t\n,", text[off]) >= 0 {
		off++
	}
	return off
}

func lowerKeys(fields map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		out[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return out
}

// jsonString reads a value that should be text: a string, or a number
// (ids are often numbers), or null or absent (""). An object, array or
// boolean is an error.
func jsonString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("invalid string: %w", err)
		}
		return s, nil
	case '{':
		return "", errors.New("want a string, got an object")
	case '[':
		return "", errors.New("want a string, got an array")
	case 't', 'f':
		return "", errors.New("want a string, got a boolean")
	default:
		return string(raw), nil // a number
	}
}

// jsonStrings reads a list of strings given as an array or as one string
// separated by ";", "," or "|".
func jsonStrings(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("invalid array: %w", err)
		}
		out := make([]string, 0, len(items))
		for i, item := range items {
			s, err := jsonString(item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out = append(out, s)
		}
		return cleanTags(out), nil
	}
	s, err := jsonString(raw)
	if err != nil {
		return nil, err
	}
	return splitTags(s), nil
}
