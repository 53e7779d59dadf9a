package web_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/browsertest"
)

// The catalogues hold the same keys, and every key a template names exists.
func TestConsoleMessagesComplete(t *testing.T) {
	langs := web.ConsoleLanguages()
	if !slices.Equal(langs, []string{"de", "en"}) && !slices.Equal(langs, []string{"en", "de"}) {
		t.Fatalf("languages %v, want English and German", langs)
	}
	en := web.ConsoleMessages("en")
	for _, lang := range langs {
		m := web.ConsoleMessages(lang)
		for k := range en {
			if strings.TrimSpace(m[k]) == "" {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range m {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
	}
	used := regexp.MustCompile(`\.T "([^"]+)"`)
	for _, name := range append(web.ConsolePages(), "layout") {
		src, err := web.ConsoleTemplate(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(src), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("template %s uses %q, which the catalogue lacks", name, m[1])
			}
		}
	}
}

// Templates hold no text of their own: everything shown comes from the
// catalogue (or the data).
func TestConsoleTemplatesHaveNoHardCodedText(t *testing.T) {
	tags := regexp.MustCompile(`(?s)<[^>]*>|\{\{.*?\}\}`)
	for _, name := range append(web.ConsolePages(), "layout") {
		src, _ := web.ConsoleTemplate(name)
		for _, line := range strings.Split(tags.ReplaceAllString(string(src), "\n"), "\n") {
			// The product's name is not translated; punctuation needs no translation.
			if s := strings.TrimSpace(strings.ReplaceAll(line, "Parley", "")); strings.IndexFunc(s, unicode.IsLetter) >= 0 {
				t.Errorf("template %s has text %q outside the catalogue", name, s)
			}
		}
	}
}

func TestConsoleInBrowser(t *testing.T) {
	st := newStack(t)
	p := browsertest.New(t, 90*time.Second)
	p.SignIn(st.srv.URL, st.admin)
	if got := browsertest.Eval[string](p, `location.pathname`); got != "/app/inbox" {
		t.Fatalf("after signing in at %s, want /app/inbox", got)
	}
	if n := browsertest.Eval[int](p, `localStorage.length + sessionStorage.length`); n != 0 {
		t.Errorf("%d items in page storage", n)
	}
	if browsertest.Eval[bool](p, `document.cookie.includes('parley_session')`) {
		t.Error("the session cookie is readable by scripts")
	}
	p.Screenshot("inbox")

	// The scripts reach the API through the session.
	n := browsertest.Eval[int](p, `Parley.api('GET', '/knowledge-bases').then(r => r.knowledge_bases.length)`)
	if n != 1 {
		t.Errorf("knowledge bases through Parley.api: %d, want 1", n)
	}
	created := browsertest.Eval[string](p, `Parley.api('POST', '/knowledge-bases', {name: 'second'}).then(r => r.name)`)
	if created != "second" {
		t.Errorf("created %q", created)
	}

	// By keyboard: the first Tab reaches the skip link, which moves focus to the content.
	p.Do("tab to the skip link", chromedp.KeyEvent("\t"))
	if got := browsertest.Eval[string](p, `document.activeElement.className`); got != "skip" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	p.Do("follow it", chromedp.KeyEvent("\r"))
	p.WaitFor("focus on the content", `document.activeElement.id === 'main'`, 2*time.Second)

	p.Do("a 360 px wide screen", chromedp.EmulateViewport(360, 740))
	for _, page := range []string{"inbox", "knowledge", "analytics"} {
		p.Do("open "+page, chromedp.Navigate(st.srv.URL+"/app/"+page+"?lang=de"))
		p.WaitFor(page, `document.documentElement.lang === 'de'`, 5*time.Second)
		p.NoHorizontalOverflow()
		p.Screenshot("phone-de-" + page)
	}
	p.Do("sign out", chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.ID("key")))
	p.Screenshot("signed-out")
	p.NoErrors()
}

func TestConsoleRefusesWidgetKeyInBrowser(t *testing.T) {
	st := newStack(t)
	key := st.widgetKey("https://shop.example")
	p := browsertest.New(t, 60*time.Second)
	p.Do("open the sign-in page", chromedp.Navigate(st.srv.URL+"/app/login"))
	p.Do("sign in with a widget key", chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.CSS(".alert")))
	if msg := browsertest.Eval[string](p, `document.querySelector('.alert').textContent`); !strings.Contains(msg, "Widget keys cannot sign in") {
		t.Errorf("refusal %q", msg)
	}
	p.Screenshot("refused")
	p.Do("try the inbox", chromedp.Navigate(st.srv.URL+"/app/inbox"))
	if got := browsertest.Eval[string](p, `location.pathname`); got != "/app/login" {
		t.Errorf("the inbox without signing in went to %s, want the sign-in page", got)
	}
	// The refused sign-in answered 403: the browser logs that as a failed load.
	p.NoErrors("403")
}
