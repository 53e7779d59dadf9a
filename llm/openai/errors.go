package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/parleyhq/parley"
)

// modelError is a *parley.Error for the caller that keeps the error it
// came from for logs and errors.Is (context.Canceled, say).
type modelError struct {
	perr  *parley.Error
	cause error
}

func (e *modelError) Error() string   { return e.perr.Message + ": " + e.cause.Error() }
func (e *modelError) Unwrap() []error { return []error{e.perr, e.cause} }

func wrapf(cause error, code, format string, args ...any) error {
	return &modelError{perr: parley.Errorf(code, format, args...), cause: cause}
}

// statusOf returns the HTTP status of a go-openai error, or 0.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryable reports whether a failed request may succeed if sent again.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if s := statusOf(err); s != 0 {
		return s == 429 || s >= 500
	}
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// translate turns a failure of one call into a Parley error. parent is the
// caller's context and timeout the call's own limit: a parent cancelled is
// passed on, a deadline passed becomes a timeout.
func translate(parent context.Context, err error, what string, timeout time.Duration) error {
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		return wrapf(context.Canceled, parley.EUnavailable, "%s was cancelled", what)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(parent.Err(), context.DeadlineExceeded):
		return wrapf(err, parley.ETimeout, "%s did not answer within %s", what, timeout)
	}
	status := statusOf(err)
	detail := providerMessage(err)
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case status == 429:
		return wrapf(err, parley.EUnavailable, "%s is rate limited (HTTP 429)%s: try again later", what, detail)
	case status == 401 || status == 403:
		return wrapf(err, parley.EUnavailable, "%s rejected the API key (HTTP %d)%s: check the configured key", what, status, detail)
	case status == 404:
		return wrapf(err, parley.EUnavailable, "%s does not know the model or path (HTTP 404)%s: check the configured base URL and model", what, detail)
	case status == 400 || status == 413 || status == 422:
		return wrapf(err, parley.EInvalid, "%s rejected the request (HTTP %d)%s", what, status, detail)
	case status >= 500:
		return wrapf(err, parley.EUnavailable, "%s failed (HTTP %d)%s", what, status, detail)
	case status != 0:
		return wrapf(err, parley.EUnavailable, "%s answered HTTP %d%s", what, status, detail)
	case errors.As(err, &syntax) || errors.As(err, &typeErr):
		return wrapf(err, parley.EUnavailable, "%s sent a response that is not valid JSON", what)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return wrapf(err, parley.EUnavailable, "%s sent an incomplete response", what)
	case errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		return wrapf(err, parley.EUnavailable, "%s sent an empty stream", what)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return wrapf(err, parley.EUnavailable, "cannot reach %s: %v", what, netErr)
	}
	return wrapf(err, parley.EUnavailable, "%s failed: %v", what, err)
}

// providerMessage returns ": <the server's message>" when it sent one,
// shortened.
func providerMessage(err error) string {
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.Message == "" {
		return ""
	}
	msg := strings.Join(strings.Fields(apiErr.Message), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return fmt.Sprintf(" (%s)", msg)
}
