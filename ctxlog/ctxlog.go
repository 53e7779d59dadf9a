// Package ctxlog carries log attributes in a context, such as a request's
// id and workspace, and adds them to every line logged with that context:
// With puts them in, and a logger whose handler is wrapped by NewHandler
// writes them out, whichever package logs (api, reply, postgres, the model
// client...), as long as it logs with the request's context (InfoContext
// and the like).
package ctxlog

import (
	"context"
	"log/slog"
)

type attrsKey struct{}

// With returns a context carrying the attributes of ctx and args
// (key-value pairs or slog.Attr values, as slog.Logger.With takes them).
func With(ctx context.Context, args ...any) context.Context {
	r := slog.Record{}
	r.Add(args...)
	attrs := append([]slog.Attr(nil), Attrs(ctx)...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, attrsKey{}, attrs)
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return attrs
}

// Handler adds the attributes of a record's context to it, except those
// whose key the record already has.
type Handler struct{ next slog.Handler }

// NewHandler wraps next; a handler already wrapped is returned as it is.
func NewHandler(next slog.Handler) slog.Handler {
	if h, ok := next.(Handler); ok {
		return h
	}
	return Handler{next: next}
}

// Logger returns log with its handler wrapped by NewHandler.
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(Handler); ok {
		return log
	}
	return slog.New(NewHandler(log.Handler()))
}

// Enabled reports whether the wrapped handler handles level.
func (h Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the context's attributes and passes the record on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	attrs := Attrs(ctx)
	if len(attrs) > 0 {
		have := map[string]bool{}
		r.Attrs(func(a slog.Attr) bool {
			have[a.Key] = true
			return true
		})
		r = r.Clone()
		for _, a := range attrs {
			if !have[a.Key] {
				r.AddAttrs(a)
			}
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns the handler with attributes added to every record.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns the handler with its later attributes in a group.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{next: h.next.WithGroup(name)}
}
