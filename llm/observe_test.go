package llm_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
)

type scripted struct {
	c   llm.Completion
	err error
}

func (s scripted) Complete(context.Context, []llm.Message, llm.Options) (llm.Completion, error) {
	return s.c, s.err
}

func (s scripted) Stream(_ context.Context, _ []llm.Message, _ llm.Options, on func(string) error) (llm.Completion, error) {
	if s.c.Text != "" {
		if err := on(s.c.Text); err != nil {
			return s.c, err
		}
	}
	return s.c, s.err
}

// metric returns the value of a counter with the given labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestObserveCountsTokensAndRequests(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := llm.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tok := newTokenizer(t)
	msgs := []llm.Message{{Role: "user", Content: "How do I reset my password?"}}

	reported := llm.Observe(scripted{c: llm.Completion{Text: "Use the link.", PromptTokens: 100, CompletionTokens: 20}}, "gpt-test", m, tok, log)
	if _, err := reported.Complete(context.Background(), msgs, llm.Options{Task: "suggest"}); err != nil {
		t.Fatal(err)
	}
	// A server that reports no usage: counted with the tokenizer.
	estimated := llm.Observe(scripted{c: llm.Completion{Text: "hello"}}, "gpt-test", m, tok, log)
	if _, err := estimated.Stream(context.Background(), msgs, llm.Options{Task: "suggest"}, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	failing := llm.Observe(scripted{err: parley.Errorf(parley.ETimeout, "slow")}, "gpt-test", m, tok, log)
	if _, err := failing.Complete(context.Background(), msgs, llm.Options{}); err == nil {
		t.Fatal("no error")
	}

	wantPrompt := 100 + float64(tok.CountMessages(msgs))
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"parley_llm_tokens_total", map[string]string{"model": "gpt-test", "kind": "prompt"}, wantPrompt},
		{"parley_llm_tokens_total", map[string]string{"model": "gpt-test", "kind": "completion"}, 21},
		{"parley_llm_requests_total", map[string]string{"model": "gpt-test", "status": "ok"}, 2},
		{"parley_llm_requests_total", map[string]string{"model": "gpt-test", "status": "timeout"}, 1},
		{"parley_llm_request_duration_seconds", map[string]string{"model": "gpt-test"}, 3},
	} {
		if got := metric(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
