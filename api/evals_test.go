package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
)

// evalReport is a report.json as parley eval writes it, with one wrong
// answer and one needless escalation among its outcomes.
func evalReport(suite string, precision float64) string {
	return fmt.Sprintf(`{
  "suite": %q, "workspace": "eval-%s", "ran_at": "2026-12-01T10:00:00Z", "version": "v0.9.0", "embedder": "local-v7",
  "cases": 4, "in_scope": 3, "must_escalate": 1, "elapsed": "1.2s", "answer_threshold": 0.5,
  "retrieval": {"hit_at_1": 0.667, "hit_at_5": 1, "mrr": 0.833},
  "decisions": {"answered_share": 0.5, "precision": %v, "coverage": 0.333, "escalation_recall": 1, "false_escalations": 1, "reasons": {"low_confidence": 2}, "reason_agreement": 1},
  "calibration": {"target_precision": 0.95, "reachable": true, "threshold": 0.7, "coverage": 0.333, "precision": 1, "auroc": 0.75, "monotonic": 1, "best": null, "curve": []},
  "latency_ms": {"p50": 3, "p95": 5, "max": 5},
  "worst": {"confidently_wrong": [], "needless_escalations": []},
  "gates": [{"name": "min_precision", "min": 0.9, "actual": %v, "passed": %t}],
  "outcomes": [
    {"case": {"id": "c1", "query": "Where is my parcel?", "intent": "delivery"}, "status": "answered", "confidence": 0.9, "language": "en", "latency_ms": 3,
     "forced": false, "answerable": true, "rank": 2, "top_correct": false, "correct": false, "top": [{"label": "returns", "score": 0.9, "similarity": 0.8, "answer": "Send it back."}]},
    {"case": {"id": "c2", "query": "refund pls", "intent": "refund"}, "status": "escalated", "reason": "low_confidence", "confidence": 0.4, "language": "en", "latency_ms": 2,
     "forced": false, "answerable": true, "rank": 1, "top_correct": true, "correct": false, "top": []},
    {"case": {"id": "c3", "query": "Can I get my money back?", "intent": "refund"}, "status": "answered", "confidence": 0.95, "language": "en", "latency_ms": 5,
     "forced": false, "answerable": true, "rank": 1, "top_correct": true, "correct": true, "top": []}
  ]
}`, suite, suite, precision, precision, precision >= 0.9)
}

func TestEvalRunsAPI(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *api.Options) { o.MaxEvalReportBytes = 8 << 10 })
	admin := e.keys[parley.RoleAdmin]

	status, body := e.do("POST", "/v1/evals/runs", admin, evalReport("sample", 0.5))
	if status != 201 {
		t.Fatalf("upload: %d %v", status, body)
	}
	id := fmt.Sprint(body["id"])
	figures := body["figures"].(map[string]any)
	if body["suite"] != "sample" || body["passed"] != false || figures["precision"] != 0.5 || figures["calibrated_threshold"] != 0.7 ||
		body["embedder"] != "local-v7" || body["failure_count"] != 2.0 {
		t.Fatalf("stored run %v", body)
	}
	failures := body["failures"].([]any)
	if first := failures[0].(map[string]any); first["case"] != "c1" || first["kind"] != "wrong_answer" || first["got"] != "returns" {
		t.Errorf("first failure %v, want c1 answered wrongly with returns", first)
	}
	if status, body = e.do("POST", "/v1/evals/runs", admin, evalReport("sample", 0.95)); status != 201 {
		t.Fatalf("second upload: %d %v", status, body)
	}
	if status, body = e.do("POST", "/v1/evals/runs", admin, evalReport("banking77", 0.97)); status != 201 {
		t.Fatalf("third upload: %d %v", status, body)
	}

	status, body = e.do("GET", "/v1/evals/runs?suite=sample", admin, "")
	if runs, _ := body["runs"].([]any); status != 200 || len(runs) != 2 || runs[0].(map[string]any)["failures"] != nil {
		t.Fatalf("sample runs: %d %v, want 2 without their failures", status, body)
	}
	if status, body = e.do("GET", "/v1/evals/runs?limit=1", admin, ""); len(body["runs"].([]any)) != 1 {
		t.Fatalf("limit=1: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/evals/runs/"+id, admin, "")
	if status != 200 || fmt.Sprint(body["id"]) != id || len(body["failures"].([]any)) != 2 {
		t.Fatalf("run %s: %d %v", id, status, body)
	}

	// Another workspace sees none of it.
	other := newEnv(t)
	status, body = other.do("GET", "/v1/evals/runs/"+id, other.keys[parley.RoleAdmin], "")
	wantError(t, status, body, 404, "not_found")
	if status, body = other.do("GET", "/v1/evals/runs", other.keys[parley.RoleAdmin], ""); status != 200 || len(body["runs"].([]any)) != 0 {
		t.Fatalf("other workspace's runs: %d %v, want none", status, body)
	}

	for _, c := range []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"unknown id", "GET", "/v1/evals/runs/999999999", admin, "", 404, "not_found"},
		{"not an id", "GET", "/v1/evals/runs/abc", admin, "", 404, "not_found"},
		{"bad limit", "GET", "/v1/evals/runs?limit=0", admin, "", 400, "invalid"},
		{"agent", "GET", "/v1/evals/runs", e.keys[parley.RoleAgent], "", 403, "forbidden"},
		{"agent upload", "POST", "/v1/evals/runs", e.keys[parley.RoleAgent], evalReport("sample", 1), 403, "forbidden"},
		{"widget", "GET", "/v1/evals/runs", e.keys[parley.RoleWidget], "", 403, "forbidden"},
		{"no key", "GET", "/v1/evals/runs", "", "", 401, "unauthorized"},
		{"malformed", "POST", "/v1/evals/runs", admin, `{"suite": "x", "cases": `, 400, "invalid"},
		{"unknown field", "POST", "/v1/evals/runs", admin, `{"suite": "x", "cases": 1, "colour": "red"}`, 400, "invalid"},
		{"no suite", "POST", "/v1/evals/runs", admin, `{"cases": 3}`, 400, "invalid"},
		{"precision above 1", "POST", "/v1/evals/runs", admin, evalReport("sample", 1.5), 400, "invalid"},
		{"oversized", "POST", "/v1/evals/runs", admin, `{"suite": "` + strings.Repeat("x", 9<<10) + `"}`, 413, "too_large"},
	} {
		status, body := e.do(c.method, c.path, c.key, c.body)
		if status != c.status || errCode(body) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if _, body := e.do("GET", "/v1/evals/runs", admin, ""); len(body["runs"].([]any)) != 3 {
		t.Errorf("after the refused uploads: %d runs, want 3", len(body["runs"].([]any)))
	}
}

// The console's analytics page lists the runs and draws them; a run has
// its own page; agents and other workspaces see neither.
func TestConsoleEvalRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	var ids []string
	for _, p := range []float64{0.5, 0.95} {
		status, body := e.do("POST", "/v1/evals/runs", admin, evalReport("sample", p))
		if status != 201 {
			t.Fatalf("upload: %d %v", status, body)
		}
		ids = append(ids, fmt.Sprint(body["id"]))
	}
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(admin)
	status, _, page := b.get("/app/analytics")
	if status != 200 || strings.Count(page, `<tr data-run=`) != 2 || !strings.Contains(page, `id="chart-evals"`) ||
		!strings.Contains(page, `href="/app/analytics/evals/`+ids[0]+`"`) || !strings.Contains(page, "95.0%") {
		t.Fatalf("analytics page: %d, want both runs listed and charted:\n%s", status, page)
	}
	status, _, page = b.get("/app/analytics/evals/" + ids[0])
	for _, want := range []string{`data-figure="precision">50.0%`, `data-case="c1"`, `data-case="c2"`, "Where is my parcel?", "Wrong answer", "local-v7"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("run page (%d) lacks %q", status, want)
		}
	}
	if status, body := b.api("GET", "/evals/runs/"+ids[1], "", nil); status != 200 || fmt.Sprint(body["id"]) != ids[1] {
		t.Errorf("console API: %d %v", status, body)
	}

	other := newEnv(t)
	ob := newConsoleUser(t, other.srv.URL)
	ob.mustSignIn(other.keys[parley.RoleAdmin])
	for _, path := range []string{"/app/analytics/evals/" + ids[0], "/app/analytics/evals/abc"} {
		if status, _, page := ob.get(path); status != 404 || !strings.Contains(page, "<h1>Not found</h1>") {
			t.Errorf("%s from another workspace: %d, want the 404 page", path, status)
		}
	}
	if _, _, page := ob.get("/app/analytics"); strings.Contains(page, "data-run=") {
		t.Error("another workspace's analytics page lists the runs")
	}
	agent := newConsoleUser(t, e.srv.URL)
	agent.mustSignIn(e.keys[parley.RoleAgent])
	if status, _, _ := agent.get("/app/analytics/evals/" + ids[0]); status != 403 {
		t.Errorf("an agent opening a run: %d, want 403", status)
	}
}
