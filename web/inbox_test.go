package web_test

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/browsertest"
)

// inboxModel is a fake chat model for the inbox: a draft citing the
// knowledge it was given (or, when cite is false, citing nothing, so that
// it is dropped and retracted), translations, rewrites and summaries.
// Streamed drafts come a word every 80 ms, as a model writes them.
func inboxModel(cite *atomic.Bool) openaitest.Responder {
	source := regexp.MustCompile(`knowledge source=(\d+)>>>`)
	return func(w http.ResponseWriter, r *http.Request, req openaitest.Request) {
		msgs := req.Messages()
		sys, user := msgs[0].Content, msgs[len(msgs)-1].Content
		text := "?"
		switch {
		case strings.Contains(sys, "You draft replies"):
			text = "It should be with you soon, I think."
			if m := source.FindStringSubmatch(user); m != nil && cite.Load() {
				text = "Standard delivery takes 3-5 working days within the EU [source:" + m[1] + "]."
			}
		case strings.Contains(sys, "You translate"):
			// The text comes with its numbers as markers, to be kept.
			_, block, _ := strings.Cut(user, ">>>\n")
			block, _, _ = strings.Cut(block, "\n<<<END ")
			text = strings.NewReplacer("Good news", "Gute Nachricht", "standard delivery takes", "die Standardlieferung dauert",
				"working days within the EU", "Werktage in der EU").Replace(block)
		case strings.Contains(sys, "edit a reply"):
			text = "Good news: standard delivery takes 3-5 working days within the EU."
		case strings.Contains(sys, "handover notes"):
			text = "- The customer asks when the parcel arrives\n- They asked for a person"
		}
		if stream, _ := req.Body["stream"].(bool); stream {
			openaitest.StreamPaced(80*time.Millisecond, strings.SplitAfter(text, " ")...)(w, r, req)
			return
		}
		openaitest.Reply(text)(w, r, req)
	}
}

// withAssistant gives the stack's server agent assist on model.
func withAssistant(t *testing.T, model *openaitest.Server) func(*api.Options) {
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	render, err := prompts.NewRenderer(tok, prompts.RendererOptions{})
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := llm.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	chat, err := openai.NewChatModel(openai.Config{BaseURL: model.BaseURL(), APIKey: "sk-test", Model: "test-model", Timeout: 10 * time.Second, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *api.Options) {
		db := pgtest.DB(t)
		engine := reply.New(db, retrieval.NewLocal(), reply.Options{Language: reply.NewLanguageDetector(), Classifiers: db, Logger: o.Logger})
		o.Assistant = assist.NewAssistant(engine, assist.NewDrafter(llm.Observe(chat, "test-model", metrics, tok, o.Logger), render, o.Logger))
	}
}

// q is a JavaScript expression: the element of the page matching sel.
func q(sel string) string { return `document.querySelector(` + strconv.Quote(sel) + `)` }

// shows is a JavaScript test that an element matching sel is shown and
// contains text.
func shows(sel, text string) string {
	return `[...document.querySelectorAll(` + strconv.Quote(sel) + `)].some(e => e.offsetParent !== null && e.textContent.includes(` + strconv.Quote(text) + `))`
}

// A visitor asks for a person in the widget; an agent signed in to the
// console sees the handoff arrive in the queue by itself, opens it, reads
// the context packet, streams a suggestion (and sees a dropped draft taken
// back), replies with it, writes an internal note, translates, rewrites
// and summarises, and resolves naming the knowledge that answered. The
// visitor's widget shows the replies, never the note.
func TestInboxInBrowser(t *testing.T) {
	var cite atomic.Bool
	model := openaitest.New(t, inboxModel(&cite))
	st := newStackWith(t, withAssistant(t, model))
	page := st.demoPage("", "")
	key := st.widgetKey(page.URL)
	page.Config.Handler = web.DemoPage(web.DemoOptions{API: st.srv.URL, Key: key})

	agent := browsertest.New(t, 120*time.Second)
	agent.SignIn(st.srv.URL, st.agent)
	agent.WaitFor("the live queue", shows("#live", "Live"), 10*time.Second)
	agent.Do("say who I am", chromedp.SetValue(chromedp.CSS("#me"), st.agenID))
	browsertest.Eval[bool](agent, q("#me")+`.dispatchEvent(new Event('change'))`)

	visitor := browsertest.New(t, 120*time.Second)
	visitor.Do("open the demo page", chromedp.Navigate(page.URL))
	visitor.Do("open the widget", chromedp.Click(in(".launch")))
	ask(visitor, "How long does delivery take? I want to talk to a person")
	visitor.WaitFor("the handoff notice", has(".status", "Waiting for a person"), 10*time.Second)

	took := agent.WaitFor("the handoff in the queue", shows("#queue .item", "How long does delivery take"), 2*time.Second)
	t.Logf("the handoff appeared in the agent's queue %v after the widget showed the notice", took.Round(time.Millisecond))
	agent.Screenshot("queue")

	agent.Do("open it by keyboard", chromedp.Focus(chromedp.CSS("#queue .item")), chromedp.KeyEvent("\r"))
	agent.WaitFor("the context packet", shows("#candidates li", "3-5 working days")+` && `+shows("#candidates a", "Delivery times")+
		` && `+shows("#transcript .msg", "How long does delivery take"), 5*time.Second)
	if got := browsertest.Eval[string](agent, `document.activeElement.id`); got != "detail-h" {
		t.Errorf("opening the conversation focuses %q, want its heading", got)
	}
	agent.Screenshot("packet")

	// A draft that cites nothing is streamed, then taken back.
	agent.Do("ask for suggestions", chromedp.Click(chromedp.CSS("#suggest")))
	agent.WaitFor("the streamed draft", shows("#draft-text", "It should be"), 5*time.Second)
	agent.WaitFor("the draft taken back", q("#draft-live")+`.hidden && `+shows("#suggest-note", "withdrawn")+
		` && `+shows("#suggestions li", "3-5 working days"), 10*time.Second)
	agent.Screenshot("retracted")

	cite.Store(true)
	agent.Do("ask again", chromedp.Click(chromedp.CSS("#suggest")))
	agent.WaitFor("the draft as it streams", shows("#draft-text", "Standard delivery")+` && !`+shows("#draft-text", "within the EU."), 5*time.Second)
	agent.Screenshot("streaming")
	agent.WaitFor("the final suggestions, the draft first", shows("#suggestions li.kind-generated", "within the EU"), 10*time.Second)
	if browsertest.Eval[bool](agent, shows("#suggestions", "[source:")) {
		t.Error("a source marker is shown in the draft")
	}

	// The draft becomes the reply, and reaches the visitor.
	agent.Do("use the draft", chromedp.Click(chromedp.CSS("#suggestions li.kind-generated .use")))
	sent := time.Now()
	agent.Do("send it", chromedp.Click(chromedp.CSS("#send")))
	took = visitor.WaitFor("the reply in the widget", has(".m.agent", "3-5 working days"), 2*time.Second)
	t.Logf("the reply appeared in the widget %v after Send (%v polling)", time.Since(sent).Round(time.Millisecond), took.Round(time.Millisecond))

	// An internal note, by keyboard: it stays with the agents.
	agent.Do("write a note", chromedp.Focus(chromedp.CSS("#reply")))
	agent.Type("VIP customer, ship express next time")
	agent.Do("mark it internal", chromedp.Click(chromedp.CSS("#internal")))
	agent.Do("send it with Ctrl+Enter", chromedp.Focus(chromedp.CSS("#reply")), chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	agent.WaitFor("the note in the transcript", shows("#transcript .msg.internal", "VIP customer"), 5*time.Second)

	// Translate, rewrite and summary go through the model.
	agent.Do("type a reply", chromedp.Focus(chromedp.CSS("#reply")))
	agent.Type("Your parcel is on its way.")
	agent.Do("rewrite it", chromedp.Click(chromedp.CSS("#rewrite")))
	agent.WaitFor("the rewritten reply", q("#reply")+`.value.startsWith('Good news')`, 5*time.Second)
	agent.Do("translate it", chromedp.SetValue(chromedp.CSS("#tr-lang"), "de"), chromedp.Click(chromedp.CSS("#translate")))
	agent.WaitFor("the translation", q("#reply")+`.value.includes('Werktage')`, 5*time.Second)
	agent.Do("summarise", chromedp.Click(chromedp.CSS("#summary-btn")))
	agent.WaitFor("the summary", shows("#summary", "asks when the parcel arrives"), 5*time.Second)
	agent.Do("send the translation", chromedp.Click(chromedp.CSS("#send")))
	visitor.WaitFor("the second reply", has(".m.agent", "Werktage"), 2*time.Second)
	if browsertest.Eval[bool](visitor, has(".m", "VIP")) {
		t.Error("the visitor sees the internal note")
	}
	visitor.Screenshot("widget")
	if msg := browsertest.Eval[string](agent, `(e => e.hidden || e.className !== 'alert' ? '' : e.textContent)(`+q("#inbox-alert")+`)`); msg != "" {
		t.Errorf("the inbox shows an error: %s", msg)
	}

	// Another customer's handoff appears while this one is open, and a new
	// message of theirs marks its row.
	second := st.call("POST", "/v1/answer", st.agent, `{"message": {"text": "Can I return a plant? I want to talk to a person"}}`, 200)
	if second["status"] != "escalated" {
		t.Fatalf("second customer: %v, want a handoff", second)
	}
	agent.WaitFor("the second handoff in the queue", shows("#queue .item", "Can I return a plant"), 2*time.Second)
	st.call("POST", "/v1/answer", st.agent, `{"conversation_id": "`+second["conversation_id"].(string)+`", "message": {"text": "It is a fern."}}`, 200)
	agent.WaitFor("its row marked new", `[...document.querySelectorAll('#queue .item')].some(b => b.textContent.includes('Can I return a plant') && b.querySelector('.badge.new'))`, 2*time.Second)
	if n := browsertest.Eval[int](agent, `document.querySelectorAll('#queue .badge.new').length`); n != 1 {
		t.Errorf("%d rows marked new, want 1 (the open conversation's own messages are seen)", n)
	}
	agent.Do("show mine", chromedp.SetValue(chromedp.CSS("#view"), "mine"))
	browsertest.Eval[bool](agent, q("#view")+`.dispatchEvent(new Event('change'))`)
	agent.WaitFor("only the claimed one", `document.querySelectorAll('#queue .item').length === 1 && `+shows("#queue .item", "How long does delivery take"), 2*time.Second)
	agent.Screenshot("mine")

	// Resolve, naming the delivery answer.
	agent.Do("pick the knowledge", chromedp.Click(chromedp.CSS(`#answered input[value^="source:"], #answered input[value^="intent:"]`)))
	agent.Do("resolve", chromedp.Click(chromedp.CSS("#resolve")))
	agent.WaitFor("resolved", shows("#facts dd", "resolved")+` && !`+shows("#queue .item", "How long does delivery take"), 5*time.Second)
	agent.Do("show all waiting and claimed", chromedp.SetValue(chromedp.CSS("#view"), "unresolved"))
	browsertest.Eval[bool](agent, q("#view")+`.dispatchEvent(new Event('change'))`)
	agent.Screenshot("resolved")

	queue := st.call("GET", "/v1/escalations?status=resolved", st.agent, "", 200)
	queueItems := browsertest.Eval[int](agent, `document.querySelectorAll('#queue .item').length`)
	if queueItems != 1 {
		t.Errorf("%d rows in the queue after resolving, want the other customer's", queueItems)
	}
	items, _ := queue["escalations"].([]any)
	if len(items) != 1 {
		t.Fatalf("resolved escalations: %v", queue)
	}
	answered, _ := items[0].(map[string]any)["answered_by"].(map[string]any)
	if answered == nil || answered["title"] != "Delivery times" {
		t.Errorf("answered_by %v, want the delivery entry", items[0].(map[string]any)["answered_by"])
	}

	// On a phone, the queue and the conversation take the screen in turn.
	agent.Do("a 360 px wide screen", chromedp.EmulateViewport(360, 740))
	agent.NoHorizontalOverflow()
	agent.Screenshot("phone-detail")
	agent.Do("back to the queue", chromedp.Click(chromedp.CSS("#back")))
	agent.NoHorizontalOverflow()
	agent.Screenshot("phone-queue")
	// In German, the resolved conversation opened from its address.
	esc := items[0].(map[string]any)["id"].(string)
	agent.Do("open it in German", chromedp.Navigate(st.srv.URL+"/app/inbox?lang=de#"+esc), chromedp.WaitVisible(chromedp.CSS("#transcript .msg")))
	agent.WaitFor("the German detail", shows("#facts dd", "erledigt")+` && `+shows("#transcript .msg.internal", "VIP customer")+` && `+shows(".badge.note", "Interne Notiz"), 5*time.Second)
	agent.NoHorizontalOverflow()
	agent.Screenshot("phone-de-detail")
	agent.NoErrors()
	visitor.NoErrors()
}

// Every message key the inbox's script names is in both catalogues
// (keys made up from a prefix and a value the API sends are checked with
// the values the API has).
func TestInboxScriptMessagesComplete(t *testing.T) {
	src, err := os.ReadFile("console/static/inbox.js")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`'(js\.[a-z_.]+)'`).FindAllStringSubmatch(string(src), -1) {
		key := m[1]
		switch {
		case strings.HasSuffix(key, ".status."):
			for _, s := range []string{parley.StatusOpen, parley.StatusClaimed, parley.StatusResolved} {
				keys = append(keys, key+s)
			}
		case strings.HasSuffix(key, ".reason."):
			for _, r := range []string{parley.ReasonLowConfidence, parley.ReasonNoMatch, parley.ReasonHumanRequested, parley.ReasonRepeat,
				parley.ReasonSensitive, parley.ReasonModelError, parley.ReasonUnhelpful} {
				keys = append(keys, key+r)
			}
		case strings.HasSuffix(key, ".kind."):
			keys = append(keys, key+"generated", key+"knowledge")
		case strings.HasSuffix(key, "."):
			t.Errorf("the script makes up keys from %q: teach this test its values", key)
		default:
			keys = append(keys, key)
		}
	}
	if len(keys) < 40 {
		t.Fatalf("found only %d keys in inbox.js: is the pattern still right?", len(keys))
	}
	for _, lang := range web.ConsoleLanguages() {
		msgs := web.ConsoleMessages(lang)
		for _, k := range keys {
			if strings.TrimSpace(msgs[k]) == "" {
				t.Errorf("%s lacks %q, which inbox.js uses", lang, k)
			}
		}
	}
}
