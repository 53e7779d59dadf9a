package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/browsertest"
)

// shadow is the widget's shadow root in the page.
const shadow = `document.querySelector('[data-parley-widget]').shadowRoot`

// in selects an element inside the widget.
func in(sel string) chromedp.JSPath {
	return chromedp.JSPath(shadow + ".querySelector(" + strconv.Quote(sel) + ")")
}

// has is a JavaScript test that an element inside the widget matching sel
// contains text.
func has(sel, text string) string {
	return `[...` + shadow + `.querySelectorAll(` + strconv.Quote(sel) + `)].some(e => e.textContent.includes(` + strconv.Quote(text) + `))`
}

// openDemo serves the demo page for api on its own origin and opens it.
func openDemo(t *testing.T, f *fakeAPI, language string) (*browsertest.Page, string) {
	t.Helper()
	demo := httptest.NewServer(web.DemoPage(web.DemoOptions{API: f.srv.URL, Key: f.key, Language: language}))
	t.Cleanup(demo.Close)
	p := browsertest.New(t, 60*time.Second)
	p.Do("open the demo page", chromedp.Navigate(demo.URL))
	p.WaitFor("the widget", `document.querySelector('[data-parley-widget]') !== null`, 5*time.Second)
	return p, demo.URL
}

// ask types a question into the open widget and sends it with Enter.
func ask(p *browsertest.Page, text string) {
	p.Do("focus the message box", chromedp.Focus(in("textarea")))
	p.Type(text + "\r")
}

func TestWidgetConversation(t *testing.T) {
	f := newFakeAPI(t)
	p, origin := openDemo(t, f, "")
	f.allowed = origin

	// By keyboard: Enter on the launcher opens the panel with the focus in the message box.
	p.Do("focus the launcher", chromedp.Focus(in(".launch")))
	p.Type("\r")
	p.WaitFor("the panel open", shadow+`.querySelector('.panel').hidden === false && `+shadow+`.activeElement.id === 'q'`, 5*time.Second)
	p.WaitFor("the greeting and the shop name", has(".m.bot", "Hi! Ask me anything.")+` && `+has("h2", "Bramble & Co."), 5*time.Second)

	ask(p, "How long does delivery to Germany take?")
	p.WaitFor("the answer with its source link", has(".m.bot[data-id]", "2-4 working days")+
		` && `+shadow+`.querySelector('.m.bot[data-id] .src a').href === 'https://shop.example/help/shipping'`, 5*time.Second)
	if got := browsertest.Eval[string](p, shadow+`.querySelector('.m.bot[data-id] .src a').rel`); got != "noopener noreferrer" {
		t.Errorf("source link rel = %q", got)
	}
	p.Screenshot("answer")

	// Not helpful: the feedback is sent for that answer and a person is offered.
	p.Do("say not helpful", chromedp.Click(in(`.fb button[aria-label="Not helpful"]`)))
	p.WaitFor("the handoff offer", has(".m.system", "talk to a person")+` && !`+shadow+`.querySelector('.human').hidden`, 5*time.Second)
	f.mu.Lock()
	if len(f.feedback) != 1 || f.feedback[0] != "2:false" {
		t.Errorf("feedback sent = %v, want [2:false]", f.feedback)
	}
	f.mu.Unlock()

	ask(p, "Let me talk to a human")
	p.WaitFor("the handoff notice", has(".m.bot", "A person from our team will reply here")+` && `+has(".status", "Waiting for a person"), 5*time.Second)

	// An agent's reply arrives over the event stream.
	start := time.Now()
	f.add(fakeMsg{Role: "agent", Text: "Hi, I am Jana. Your parcel left today.", AgentName: "Jana"})
	p.WaitFor("the agent's reply", has(".m.agent", "Your parcel left today")+` && `+has(".m.agent .who", "Jana"), 2*time.Second)
	t.Logf("agent reply shown %v after it was stored", time.Since(start).Round(time.Millisecond))
	p.Screenshot("agent-reply")

	// Network loss: every connection drops; a reply sent meanwhile arrives after the reconnect.
	f.srv.CloseClientConnections()
	f.add(fakeMsg{Role: "agent", Text: "Anything else I can do?", AgentName: "Jana"})
	p.WaitFor("the reply after the reconnect", has(".m.agent", "Anything else I can do?"), 10*time.Second)
	if n := browsertest.Eval[int](p, `[...`+shadow+`.querySelectorAll('.m')].filter(e => e.textContent.includes('Your parcel left today')).length`); n != 1 {
		t.Errorf("the first agent reply is shown %d times after the reconnect, want once", n)
	}
	f.mu.Lock()
	if f.streams < 2 {
		t.Errorf("event streams opened = %d, want a reconnect", f.streams)
	}
	f.mu.Unlock()

	// Escape closes the panel and gives the focus back to the launcher.
	p.Type("\x1b")
	p.WaitFor("the panel closed", shadow+`.querySelector('.panel').hidden && `+shadow+`.activeElement.className === 'launch'`, 5*time.Second)

	// A reload resumes the conversation from the stored visitor token.
	p.Do("reload", chromedp.Reload())
	p.Do("open the widget", chromedp.Click(in(".launch")))
	p.WaitFor("the transcript after a reload", has(".m.agent", "Anything else I can do?")+` && `+has(".m.customer", "talk to a human"), 5*time.Second)
	p.Screenshot("reloaded")
	p.NoErrors("ERR_INCOMPLETE_CHUNKED_ENCODING") // the stream the test cut
}

func TestWidgetGerman(t *testing.T) {
	f := newFakeAPI(t)
	f.notice = "" // the widget's own notice, in the page's language
	p, origin := openDemo(t, f, "de")
	f.allowed = origin
	p.WaitFor("German launcher", has(".launch", "Chatten Sie mit uns"), 5*time.Second)
	p.Do("open", chromedp.Click(in(".launch")))
	ask(p, "Ich möchte mit einem human sprechen")
	p.WaitFor("German handoff notice", has(".m.bot", "Eine Person aus unserem Team antwortet Ihnen hier")+
		` && `+has(".status", "Warten auf eine Person"), 5*time.Second)
	if got := browsertest.Eval[string](p, shadow+`.querySelector('textarea').placeholder`); got != "Ihre Frage…" {
		t.Errorf("placeholder = %q", got)
	}
	p.Screenshot("german")
	p.NoErrors()
}

func TestWidgetOnAPhone(t *testing.T) {
	f := newFakeAPI(t)
	p, origin := openDemo(t, f, "")
	f.allowed = origin
	p.Do("a 360 px wide screen", chromedp.EmulateViewport(360, 640))
	p.Do("open", chromedp.Click(in(".launch")))
	ask(p, "How long does delivery to Germany take?")
	p.WaitFor("the answer", has(".m.bot[data-id]", "2-4 working days"), 5*time.Second)
	box := browsertest.Eval[map[string]float64](p, `(() => { const r = `+shadow+`.querySelector('.panel').getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top}; })()`)
	if box["left"] < 0 || box["right"] > 360 || box["top"] < 0 {
		t.Errorf("the panel leaves a 360 px screen: %v", box)
	}
	p.Screenshot("phone")
	p.NoErrors()
}

func TestWidgetRefusedOrigin(t *testing.T) {
	f := newFakeAPI(t)
	p, _ := openDemo(t, f, "")
	f.allowed = "https://shop.example" // not the demo page's origin
	p.Do("open", chromedp.Click(in(".launch")))
	ask(p, "How long does delivery take?")
	p.WaitFor("a clear notice", has(".status", "not available")+` || `+has(".m.system", "went wrong"), 5*time.Second)
	if n := browsertest.Eval[int](p, shadow+`.querySelectorAll('.m.bot, .m.agent').length`); n != 0 {
		t.Errorf("%d bot or agent messages on a refused origin", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.msgs) != 0 {
		t.Errorf("the server stored %d messages from a refused origin", len(f.msgs))
	}
}

func TestWidgetScript(t *testing.T) {
	raw, gz := web.WidgetSize()
	t.Logf("widget.js: %d bytes, %d gzip-compressed", raw, gz)
	if gz > 10*1024 {
		t.Errorf("widget.js is %d bytes gzip-compressed, want at most 10 KiB", gz)
	}
	srv := httptest.NewServer(web.Widget())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/widget.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || len(body) != gz {
		t.Errorf("gzip response: encoding %q, %d bytes, want gzip %d", res.Header.Get("Content-Encoding"), len(body), gz)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d, want 304", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/widget.js") // Go's client asks for gzip and decodes it
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if len(body) != raw {
		t.Errorf("plain body %d bytes, want %d", len(body), raw)
	}
}
