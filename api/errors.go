package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

// statusOf maps each error code to its HTTP status: the one table of it.
var statusOf = map[string]int{
	parley.EInvalid:      http.StatusBadRequest,
	parley.ENotFound:     http.StatusNotFound,
	parley.EConflict:     http.StatusConflict,
	parley.EUnauthorized: http.StatusUnauthorized,
	parley.EForbidden:    http.StatusForbidden,
	parley.ETooLarge:     http.StatusRequestEntityTooLarge,
	parley.EUnavailable:  http.StatusServiceUnavailable,
	parley.ETimeout:      http.StatusGatewayTimeout,
	parley.EInternal:     http.StatusInternalServerError,
	codeMethodNotAllowed: http.StatusMethodNotAllowed,
	codeOriginNotAllowed: http.StatusForbidden,
	codeIdentityInvalid:  http.StatusUnauthorized,
	codeRateLimited:      http.StatusTooManyRequests,
	codeUnsupportedType:  http.StatusUnsupportedMediaType,
}

// Error codes that exist only at the HTTP edge.
const (
	codeMethodNotAllowed = "method_not_allowed"
	codeUnsupportedType  = "unsupported_media_type"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// fail writes err as a JSON error response and stops the chain. Internal
// errors are logged here, once, and their details never reach the client.
//
// Errors the store did not classify are classified here with
// Options.ClassifyError: a database outage is a 503 with Retry-After, logged
// once per outage, not an internal error.
func fail(c *gin.Context, err error) {
	if parley.ErrorCode(err) == parley.EInternal {
		var down bool
		if o, ok := c.Get(outageKey); ok {
			err, down = o.(*outage).classifyErr(c, err)
		}
		if down {
			c.Header("Retry-After", retryAfterOutage)
		}
	}
	code, msg := parley.ErrorCode(err), parley.ErrorMessage(err)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		code, msg = parley.ETooLarge, fmt.Sprintf("request body is larger than the limit of %d bytes", tooBig.Limit)
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 && code == parley.EInternal {
		logger(c).ErrorContext(c.Request.Context(), "request failed", "err", err.Error())
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: msg, RequestID: requestID(c)}})
}

// parseBool reads a true/false parameter; empty is false.
func parseBool(name, raw string) (bool, error) {
	if raw == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		return false, parley.Errorf(parley.EInvalid, "%s must be true or false, got %q", name, raw)
	}
	return v, nil
}

// bindJSON decodes the request body into v, rejecting unknown fields,
// trailing data, wrong types and bodies over the limit with clear messages.
func bindJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return &parley.Error{Code: codeUnsupportedType, Message: fmt.Sprintf("Content-Type must be application/json, got %q", ct)}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return parley.Errorf(parley.EInvalid, "malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	var domain *parley.Error
	switch {
	case errors.As(err, &domain): // a field's own UnmarshalJSON said what is wrong
		return domain
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return parley.Errorf(parley.EInvalid, "request body is empty: send a JSON object")
	case errors.As(err, &syntax):
		return parley.Errorf(parley.EInvalid, "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EInvalid, "malformed JSON: the body ends too early")
	case errors.As(err, &typeErr):
		return parley.Errorf(parley.EInvalid, "field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return parley.Errorf(parley.EInvalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return parley.Errorf(parley.EInvalid, "malformed JSON: %v", err)
}

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}
