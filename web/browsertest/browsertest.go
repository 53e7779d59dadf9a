// Package browsertest drives a real headless Chromium from Go tests with
// chromedp: Debian's chromium package (scripts/install-chromium.sh installs
// it; PARLEY_CHROMIUM names another binary). Each Page is one browser with a
// fresh profile; it collects the page's console errors and uncaught
// exceptions, and saves screenshots under test-artifacts/ at the module root.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is one headless browser tab.
type Page struct {
	t   testing.TB
	ctx context.Context

	mu   sync.Mutex
	errs []string
}

// Width and Height are the window size of a new Page.
const (
	Width  = 1280
	Height = 800
)

// chromiumPath finds the browser: PARLEY_CHROMIUM, else chromium on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH: run scripts/install-chromium.sh (make test does)")
}

// New starts Chromium for the test and opens a blank tab. The browser stops
// when the test ends. timeout bounds everything the page does.
func New(t testing.TB, timeout time.Duration) *Page {
	t.Helper()
	exe, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	// As root, Chromium needs --no-sandbox; the background-networking flags keep
	// it from calling out to Google's hosts, which a closed network refuses.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(Width, Height),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	p := &Page{t: t, ctx: bctx}
	if err := chromedp.Listen(bctx, p.record); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	return p
}

// Context is the page's chromedp context, for actions this package does not wrap.
func (p *Page) Context() context.Context { return p.ctx }

// record keeps what the page reports as an error.
func (p *Page) record(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		msg = fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	p.mu.Lock()
	p.errs = append(p.errs, msg)
	p.mu.Unlock()
}

// Errors returns the console errors, failed loads and uncaught exceptions seen so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// NoErrors fails the test if the page reported an error other than those
// containing one of the expected strings (a connection the test broke, say).
func (p *Page) NoErrors(expected ...string) {
	p.t.Helper()
	var errs []string
	for _, e := range p.Errors() {
		if !slices.ContainsFunc(expected, func(x string) bool { return strings.Contains(e, x) }) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		p.t.Errorf("the page reported %d errors:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
}

// Do runs actions in order and fails the test at the first error.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.Screenshot("failed")
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// into T, failing the test on an error.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitFor polls a JavaScript expression until it is truthy and returns how
// long that took; it fails the test (with a screenshot) after timeout.
func (p *Page) WaitFor(what, expr string, timeout time.Duration) time.Duration {
	p.t.Helper()
	start := time.Now()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		p.Screenshot("timeout")
		p.t.Fatalf("waiting %v for %s (%s): %v", timeout, what, expr, err)
	}
	return time.Since(start)
}

// Type sends key events for text to the focused element, as a person typing.
func (p *Page) Type(text string) {
	p.t.Helper()
	p.Do("type "+text, chromedp.KeyEvent(text))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves the visible page as test-artifacts/<test>-<name>.png at
// the module root and returns the path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir, err := artifactDir()
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(p.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

// artifactDir is test-artifacts/ beside the module's go.mod, created if needed.
func artifactDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-artifacts")
	return out, os.MkdirAll(out, 0o755)
}

// SignIn signs in to the console at base (the server's URL) with an agent
// or admin key, as a person would: the sign-in form, then the inbox.
func (p *Page) SignIn(base, key string) {
	p.t.Helper()
	p.Do("open the console's sign-in page", chromedp.Navigate(base+"/app/login"))
	p.Do("sign in", chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")),
		// A query waits across the navigation; a poll (WaitFor) would fail in it.
		chromedp.WaitVisible(chromedp.CSS(".main-nav")))
}

// NoHorizontalOverflow fails the test if the page is wider than its
// viewport (a phone user would have to scroll sideways).
func (p *Page) NoHorizontalOverflow() {
	p.t.Helper()
	w := Eval[map[string]float64](p, `({scroll: document.documentElement.scrollWidth, view: window.innerWidth})`)
	if w["scroll"] > w["view"] {
		p.Screenshot("overflow")
		p.t.Errorf("the page is %v px wide in a %v px viewport", w["scroll"], w["view"])
	}
}
