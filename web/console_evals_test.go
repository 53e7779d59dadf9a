package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/web/browsertest"
)

// evalReport is a small report.json of parley eval: one wrong answer and one
// needless escalation among three cases.
func evalReport(ranAt string, precision, coverage float64) string {
	return fmt.Sprintf(`{"suite": "sample", "workspace": "eval-sample", "ran_at": %q, "version": "v0.9.0", "embedder": "local-v7",
  "cases": 4, "in_scope": 3, "must_escalate": 1, "answer_threshold": 0.5,
  "retrieval": {"hit_at_1": 0.667, "hit_at_5": 1, "mrr": 0.833},
  "decisions": {"answered_share": 0.5, "precision": %v, "coverage": %v, "escalation_recall": 1, "false_escalations": 1},
  "calibration": {"target_precision": 0.95, "reachable": true, "threshold": 0.7, "coverage": 0.333, "precision": 1, "auroc": 0.75},
  "latency_ms": {"p50": 3, "p95": 5, "max": 5},
  "gates": [{"name": "min_precision", "min": 0.9, "actual": %v, "passed": %t}],
  "outcomes": [
    {"case": {"id": "parcel", "query": "Where is my parcel? It has been two weeks and the tracking page says nothing at all", "intent": "delivery"},
     "status": "answered", "confidence": 0.9, "top": [{"label": "returns", "score": 0.9}]},
    {"case": {"id": "refund", "query": "refund pls", "intent": "refund"}, "status": "escalated", "reason": "low_confidence", "confidence": 0.4},
    {"case": {"id": "money", "query": "Can I get my money back?", "intent": "refund"}, "status": "answered", "confidence": 0.95, "correct": true}
  ]}`, ranAt, precision, coverage, precision, precision >= 0.9)
}

func TestConsoleEvalReportsInBrowser(t *testing.T) {
	st := newStack(t)
	var last string
	for i, run := range []struct{ precision, coverage float64 }{{0.8, 0.5}, {0.92, 0.6}, {0.97, 0.667}} {
		at := time.Now().UTC().Add(time.Duration(i-3) * time.Hour).Format(time.RFC3339)
		last = fmt.Sprint(st.call("POST", "/v1/evals/runs", st.admin, evalReport(at, run.precision, run.coverage), 201)["id"])
	}

	p := browsertest.New(t, 90*time.Second)
	p.SignIn(st.srv.URL, st.admin)
	p.Do("open the eval reports", chromedp.Navigate(st.srv.URL+"/app/analytics#evals"), chromedp.WaitVisible(chromedp.ID("eval-runs")))
	if n := browsertest.Eval[int](p, `document.querySelectorAll('#eval-runs tbody tr').length`); n != 3 {
		t.Errorf("%d runs listed, want 3", n)
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll('#chart-evals polyline').length`); n != 4 {
		t.Errorf("%d lines in the chart, want 4 (precision, coverage, escalation recall, hit@1)", n)
	}
	if got := browsertest.Eval[string](p, `document.querySelector('#eval-runs tbody tr').textContent`); !strings.Contains(got, "97.0%") || !strings.Contains(got, "Passed") {
		t.Errorf("newest run's row %q, want 97.0%% precision, passed", got)
	}
	browsertest.Eval[bool](p, `(document.getElementById('evals').scrollIntoView(), true)`)
	p.Screenshot("evals")

	// By keyboard: focus the newest run's link and follow it.
	// A query waits across the navigation; a poll (WaitFor) would fail in it.
	p.Do("open the newest run", chromedp.Focus(chromedp.CSS(`#eval-runs a[href$="/`+last+`"]`)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("run-failures")))
	if got := browsertest.Eval[string](p, `location.pathname`); got != "/app/analytics/evals/"+last {
		t.Errorf("at %s, want the newest run's page", got)
	}
	if got := browsertest.Eval[string](p, `document.querySelector('[data-figure=precision]').textContent`); got != "97.0%" {
		t.Errorf("precision %q, want 97.0%%", got)
	}
	if got := browsertest.Eval[string](p, `[...document.querySelectorAll('#run-failures li')].map(li => li.dataset.case).join(',')`); got != "parcel,refund" {
		t.Errorf("failed cases %q, want parcel,refund", got)
	}
	p.Screenshot("run")
	browsertest.Eval[bool](p, `(document.getElementById('run-gates').scrollIntoView(), true)`)
	p.Screenshot("run-failures")

	p.Do("a 360 px wide screen in German", chromedp.EmulateViewport(360, 740), chromedp.Navigate(st.srv.URL+"/app/analytics/evals/"+last+"?lang=de"),
		chromedp.WaitVisible(chromedp.ID("run-failures")))
	if !browsertest.Eval[bool](p, text("#run-failures", "Falsche Antwort")) {
		t.Error("the German page lacks its failure kinds")
	}
	p.NoHorizontalOverflow()
	p.Screenshot("run-phone-de")
	p.Do("the German analytics page", chromedp.Navigate(st.srv.URL+"/app/analytics#evals"), chromedp.WaitVisible(chromedp.ID("eval-runs")))
	p.NoHorizontalOverflow()
	browsertest.Eval[bool](p, `(document.getElementById('evals').scrollIntoView(), true)`)
	readableChart(t, p, "#chart-evals")
	p.Screenshot("evals-phone-de")
	p.NoErrors()
}
