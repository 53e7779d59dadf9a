package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/retrieval"
	"github.com/parleyhq/parley/web/browsertest"
)

func TestConsoleAnalyticsInBrowser(t *testing.T) {
	st := newStackWith(t, func(o *api.Options) { o.Embedder = retrieval.NewLocal() })
	// Four conversations (each with a bot message: an answer or a handoff
	// notice): one the bot answers, one asking for a person, two about
	// something the knowledge lacks; an agent resolves one of those.
	for _, q := range []string{"How long does delivery take?", "I want to talk to a human please", "Do you sell garden gnomes?", "Do you sell garden gnomes in blue?"} {
		st.call("POST", "/v1/answer", st.admin, fmt.Sprintf(`{"message": {"text": %q}}`, q), 200)
	}
	queue := st.call("GET", "/v1/escalations?status=open", st.agent, "", 200)["escalations"].([]any)
	if len(queue) != 3 {
		t.Fatalf("%d open escalations, want 3", len(queue))
	}
	for _, item := range queue {
		esc := item.(map[string]any)
		if esc["reason"] != "no_match" {
			continue
		}
		st.call("POST", "/v1/escalations/"+esc["id"].(string)+"/claim", st.agent, fmt.Sprintf(`{"agent_id": %q}`, st.agenID), 200)
		st.call("POST", "/v1/escalations/"+esc["id"].(string)+"/resolve", st.agent,
			fmt.Sprintf(`{"agent_id": %q, "reply": "Yes: our garden gnomes are in the Decor section, from 12 euros."}`, st.agenID), 200)
		break
	}

	p := browsertest.New(t, 120*time.Second)
	p.SignIn(st.srv.URL, st.admin)
	p.Do("open analytics", chromedp.Navigate(st.srv.URL+"/app/analytics"), chromedp.WaitVisible(chromedp.ID("totals")))
	for figure, want := range map[string]string{"conversations": "4", "handoffs": "3", "bot_answers": "4", "deflection": "25%", "resolved_after_handoff": "1"} {
		if got := browsertest.Eval[string](p, fmt.Sprintf(`document.querySelector('[data-figure=%q]').textContent`, figure)); got != want {
			t.Errorf("%s: %q, want %q", figure, got, want)
		}
	}
	// Today's bar: 1 resolved by the bot, 3 handed off (the chart's table says so).
	today := time.Now().UTC().Format("01-02")
	row := browsertest.Eval[string](p, fmt.Sprintf(`[...document.querySelectorAll('#chart-conversations tbody tr')].find(r => r.cells[0].textContent === %q).textContent`, today))
	if row != today+"13" {
		t.Errorf("today's row in the chart's table: %q, want %q", row, today+"13")
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll('#chart-conversations svg[role=img] rect.handoff').length`); n != 1 {
		t.Errorf("%d handoff bars, want 1 (today)", n)
	}
	if !browsertest.Eval[bool](p, text("#chart-reasons text", "No matching knowledge")) {
		t.Error("the reasons chart lacks no_match")
	}
	p.Screenshot("analytics")
	browsertest.Eval[bool](p, `(document.getElementById('chart-reasons').scrollIntoView(), true)`)
	p.Screenshot("analytics-reasons")

	// The gnome topic: two questions, drafted from the agent's reply; edit and publish it.
	first := `document.querySelector('.topic')`
	if got := browsertest.Eval[string](p, first+`.querySelector('.meta').textContent`); !strings.Contains(got, "Asked 2 times") {
		t.Errorf("first topic: %q, want the two gnome questions", got)
	}
	p.Do("open the draft", chromedp.Click(chromedp.CSS(".topic summary")))
	if got := browsertest.Eval[string](p, first+`.querySelector('textarea').value`); !strings.Contains(got, "garden gnomes are in the Decor section") {
		t.Errorf("draft answer %q, want the agent's reply", got)
	}
	p.Do("edit the answer", chromedp.SetValue(chromedp.CSS(".topic textarea"), "Yes: garden gnomes are in the Decor section, from 12 euros, in red and blue."),
		chromedp.SetValue(chromedp.CSS(".topic input[name=id]"), "gnomes"))
	p.Screenshot("draft")
	p.Do("publish", chromedp.Click(chromedp.CSS(".topic button[type=submit]")))
	// Publishing retrains the workspace's classifier and calibration: slow on a loaded machine.
	p.WaitFor("published", text(".topic .draft-status", "1 added"), 60*time.Second)
	chunks := st.call("GET", "/v1/knowledge-bases/faq/sources/gnomes/chunks", st.admin, "", 200)["chunks"].([]any)
	if len(chunks) != 2 || !strings.Contains(fmt.Sprint(chunks), "in red and blue") {
		t.Errorf("published entry's chunks: %v", chunks)
	}
	if !strings.Contains(fmt.Sprint(chunks), "Do you sell garden gnomes") {
		t.Errorf("published entry's question: %v", chunks)
	}
	p.Screenshot("published")

	p.Do("a 360 px wide screen in German", chromedp.EmulateViewport(360, 740), chromedp.Navigate(st.srv.URL+"/app/analytics?lang=de"))
	p.NoHorizontalOverflow()
	p.Screenshot("phone-de")
	browsertest.Eval[bool](p, `(document.getElementById('chart-conversations').scrollIntoView(), true)`)
	readableChart(t, p, "#chart-conversations")
	p.Screenshot("phone-de-chart")
	p.NoErrors()
}

// readableChart fails the test unless the chart's axis labels, as shown,
// are at least 11 px high and none overlaps another: an SVG drawn wide and
// scaled to a phone's width had 6 px labels.
func readableChart(t *testing.T, p *browsertest.Page, chart string) {
	t.Helper()
	labels := browsertest.Eval[[]map[string]float64](p, `[...document.querySelectorAll('`+chart+` .axis')]
		.map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
		.map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom}))`)
	if len(labels) < 6 {
		t.Fatalf("%s: %d axis labels shown, want the 5 values and some times", chart, len(labels))
	}
	for i, a := range labels {
		if h := a["bottom"] - a["top"]; h < 11 {
			t.Errorf("%s: axis label %d is %.1f px high, want 11 or more", chart, i, h)
		}
		for _, b := range labels[i+1:] {
			if a["left"] < b["right"] && b["left"] < a["right"] && a["top"] < b["bottom"] && b["top"] < a["bottom"] {
				t.Errorf("%s: axis labels overlap: %v and %v", chart, a, b)
			}
		}
	}
}
