package ctxlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ctxlog"
)

// A line logged with a context carries the context's attributes, once,
// after the line's own; a key the line sets itself wins.
func TestContextAttributesOnEveryLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := ctxlog.Logger(slog.New(slog.NewTextHandler(&buf, nil)))
	if ctxlog.Logger(log) != log {
		t.Error("wrapping a wrapped logger wrapped it again")
	}
	ctx := ctxlog.With(context.Background(), "request_id", "r1")
	ctx = ctxlog.With(ctx, slog.String("workspace_id", "w1"))
	log.With("component", "engine").InfoContext(ctx, "hello", "n", 1)
	log.InfoContext(ctx, "own", "workspace_id", "w2")
	log.Info("no context")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`msg=hello component=engine n=1 request_id=r1 workspace_id=w1`,
		`msg=own workspace_id=w2 request_id=r1`,
		`msg="no context"`,
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d: %q, want it to end %q", i, lines, w)
		}
	}
}
