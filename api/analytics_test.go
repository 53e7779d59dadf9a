package api_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/retrieval"
)

func TestAnalyticsSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, text := range []string{"Where is my parcel?", "I want to talk to a human please"} {
		if status, body := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], `{"message": {"text": "`+text+`"}}`); status != 200 {
			t.Fatalf("answer: %d %v", status, body)
		}
	}
	status, body := e.do("GET", "/v1/analytics/summary?interval=week", e.keys[parley.RoleAdmin], "")
	if status != 200 {
		t.Fatalf("summary: %d %v", status, body)
	}
	totals := body["totals"].(map[string]any)
	if totals["conversations"] != 2.0 || totals["handoffs"] != 2.0 || totals["handed_off_conversations"] != 2.0 {
		t.Errorf("totals %v: want 2 conversations, both handed off (no knowledge)", totals)
	}
	if by := totals["handoffs_by_reason"].(map[string]any); by["human_requested"] != 1.0 {
		t.Errorf("by reason %v", by)
	}
	if ivs := body["intervals"].([]any); len(ivs) < 5 || len(ivs) > 6 || body["interval"] != "week" {
		t.Errorf("30 days by week: %d intervals", len(ivs))
	}

	status, body = e.do("GET", "/v1/analytics/summary", e.keys[parley.RoleAgent], "")
	wantError(t, status, body, 403, "forbidden")
	for _, q := range []string{"?from=yesterday", "?from=2024-05-02&to=2024-05-01", "?from=2020-01-01&to=2024-01-01", "?interval=hour"} {
		status, body = e.do("GET", "/v1/analytics/summary"+q, e.keys[parley.RoleAdmin], "")
		wantError(t, status, body, 400, "invalid")
	}
}

func TestAnalyticsGaps(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *api.Options) { o.Embedder = retrieval.NewLocal() })
	for _, text := range []string{"Where is my parcel?", "Do you accept bitcoin payments?", "My parcel has not arrived yet", "I want to talk to a human please"} {
		if status, body := e.do("POST", "/v1/answer", e.keys[parley.RoleWidget], `{"message": {"text": "`+text+`"}}`); status != 200 {
			t.Fatalf("answer: %d %v", status, body)
		}
	}
	status, body := e.do("GET", "/v1/analytics/gaps", e.keys[parley.RoleAdmin], "")
	if status != 200 {
		t.Fatalf("gaps: %d %v", status, body)
	}
	topics := body["topics"].([]any)
	if body["unanswered"] != 3.0 || len(topics) != 2 {
		t.Fatalf("gaps %v: want 3 unanswered questions (not the request for a person) in 2 topics", body)
	}
	first := topics[0].(map[string]any)
	if first["count"] != 2.0 || len(first["examples"].([]any)) != 2 || first["draft"].(map[string]any)["question"] != "My parcel has not arrived yet" {
		t.Errorf("first topic %v: want the two parcel questions, newest as the draft", first)
	}
	status, body = e.do("GET", "/v1/analytics/gaps?limit=1", e.keys[parley.RoleAdmin], "")
	if status != 200 || len(body["topics"].([]any)) != 1 {
		t.Errorf("limit=1: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/analytics/gaps?limit=0", e.keys[parley.RoleAdmin], "")
	wantError(t, status, body, 400, "invalid")
	status, body = newEnv(t).do("GET", "/v1/analytics/gaps", "", "")
	wantError(t, status, body, 401, "unauthorized")
}
