package ingest

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// decodeText checks that data is UTF-8 text and returns it without a byte
// order mark and with every line ending as "\n" (line numbers unchanged for
// CRLF files). Problems are reported as *InputError naming the line.
// Use requireText when an empty file is an error.
func decodeText(data []byte, name string) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if bytes.HasPrefix(data, []byte("\xFF\xFE")) || bytes.HasPrefix(data, []byte("\xFE\xFF")) {
		return "", inputErrorf(name, "", "file is UTF-16; save the file as UTF-8")
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", inputErrorf(lineAt(data, name, i), "", "contains a NUL byte; this is not a text file (or it is UTF-16): save the file as UTF-8")
	}
	if !utf8.Valid(data) {
		return "", inputErrorf(lineAt(data, name, firstInvalidUTF8(data)), "", "not valid UTF-8; save the file as UTF-8")
	}
	text := string(data)
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text, nil
}

// requireText is decodeText for files that must not be empty.
func requireText(data []byte, name string) (string, error) {
	text, err := decodeText(data, name)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		return "", inputErrorf(name, "", "empty file")
	}
	return text, nil
}

// lineAt returns the origin "name:line" of byte offset off in data.
func lineAt(data []byte, name string, off int) string {
	return at(name, bytes.Count(data[:off], []byte("\n"))+1)
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// lineOfOffset returns the 1-based line of byte offset off in text.
func lineOfOffset(text string, off int) int {
	off = min(max(off, 0), len(text))
	return strings.Count(text[:off], "\n") + 1
}

// cleanValue trims a field value; inner line breaks are kept.
func cleanValue(s string) string {
	return strings.TrimSpace(s)
}
