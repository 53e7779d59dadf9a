package ingest

import (
	"errors"
	"fmt"
)

// Limit errors. An *InputError caused by a limit wraps one of them, so a
// caller can answer 413 for these and 400 for every other *InputError.
var (
	ErrTooLarge = errors.New("too large")        // a file or an upload is over its byte limit
	ErrTooMany  = errors.New("too many entries") // too many files or records in one upload
)

// InputError is a problem with the uploaded content that the person who
// uploaded it can fix: it names the place (file and line), the field and
// what is wrong, as in `faq.csv:12: field "question": empty`.
type InputError struct {
	Origin string // "faq.csv:12", "docs/a.md", or "" for the upload as a whole
	Field  string // "question", "messages[2].role", or ""
	Msg    string
	Err    error // ErrTooLarge, ErrTooMany or nil
}

func (e *InputError) Error() string {
	msg := e.Msg
	if e.Field != "" {
		msg = fmt.Sprintf("field %q: %s", e.Field, e.Msg)
	}
	if e.Origin != "" {
		msg = e.Origin + ": " + msg
	}
	return msg
}

func (e *InputError) Unwrap() error { return e.Err }

// inputErrorf returns an *InputError for origin and field.
func inputErrorf(origin, field, format string, args ...any) *InputError {
	return &InputError{Origin: origin, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// at returns "name:line", the origin of one line of a file.
func at(name string, line int) string {
	return fmt.Sprintf("%s:%d", name, line)
}
