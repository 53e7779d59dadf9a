package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The console (/app): html/template pages on one layout, a small style
// sheet and script, and a message catalogue per language. Pages are
// rendered by the api package's handlers; this package only knows how they
// look and what they say.

// ConsolePage is what a console template is rendered with.
type ConsolePage struct {
	// Lang is the page's language, one of ConsoleLanguages.
	Lang string
	// Title is the message key of the page title.
	Title string
	// Path is the page's path, for the language switch and the current
	// navigation entry.
	Path string
	// CSRF is the token state-changing requests must carry (form field
	// "csrf", header X-CSRF-Token).
	CSRF string
	// User is who is signed in; nil on the sign-in page.
	User *ConsoleUser
	// Nav are the pages the user may open.
	Nav []NavItem
	// Error is the message key of an error to show (and ErrorArgs its
	// arguments), if any.
	Error     string
	ErrorArgs []any
	// Data is the page's own data.
	Data any

	msgs map[string]string
}

// ConsoleUser is who is signed in.
type ConsoleUser struct {
	Workspace string
	Role      string
}

// NavItem is one entry of the navigation: a path and the message key of its label.
type NavItem struct {
	Href, Label string
	Active      bool
}

// T is the message key in the page's language, formatted with args
// (fmt verbs); an unknown key is shown as itself (tests keep the
// catalogues complete).
func (p ConsolePage) T(key string, args ...any) string {
	s, ok := p.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// ErrorText is the page's error message in its language.
func (p ConsolePage) ErrorText() string { return p.T(p.Error, p.ErrorArgs...) }

// Languages are the languages the console speaks, with their own names,
// for the language switch.
func (p ConsolePage) Languages() []Language {
	out := make([]Language, 0, len(console.catalog))
	for _, code := range ConsoleLanguages() {
		out = append(out, Language{Code: code, Name: console.catalog[code]["lang.name"], Current: code == p.Lang})
	}
	return out
}

// Language is one entry of the language switch.
type Language struct {
	Code, Name string
	Current    bool
}

// JSMessages are the messages whose keys start with "js.", for the
// page's scripts (Parley.t in console.js).
func (p ConsolePage) JSMessages() map[string]string {
	out := map[string]string{}
	for k, v := range p.msgs {
		if strings.HasPrefix(k, "js.") {
			out[k] = v
		}
	}
	return out
}

type consoleSet struct {
	pages   map[string]*template.Template
	static  map[string]asset
	catalog map[string]map[string]string
}

var console = loadConsole()

func loadConsole() consoleSet {
	c := consoleSet{pages: map[string]*template.Template{}, static: map[string]asset{}, catalog: map[string]map[string]string{}}
	names, err := fs.Glob(files, "console/templates/*.html")
	if err != nil || len(names) == 0 {
		panic(fmt.Sprintf("web: console templates missing: %v", err)) // a build mistake, caught by any test
	}
	for _, name := range names {
		page := strings.TrimSuffix(path.Base(name), ".html")
		if page == "layout" {
			continue
		}
		c.pages[page] = template.Must(template.New(page).ParseFS(files, "console/templates/layout.html", name))
	}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
	statics, _ := fs.Glob(files, "console/static/*")
	for _, name := range statics {
		a := load(name, types[path.Ext(name)])
		a.corp = "same-origin"
		c.static[path.Base(name)] = a
	}
	msgs, _ := fs.Glob(files, "console/messages/*.json")
	for _, name := range msgs {
		raw, _ := files.ReadFile(name)
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(fmt.Sprintf("web: console messages %s: %v", name, err))
		}
		c.catalog[strings.TrimSuffix(path.Base(name), ".json")] = m
	}
	return c
}

// ConsoleLanguages are the languages of the console's catalogue, English first.
func ConsoleLanguages() []string {
	out := make([]string, 0, len(console.catalog))
	for code := range console.catalog {
		out = append(out, code)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] == "en" || (out[j] != "en" && out[i] < out[j]) })
	return out
}

// ConsoleMessages returns the catalogue of one language (a copy), for tests.
func ConsoleMessages(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range console.catalog[lang] {
		out[k] = v
	}
	return out
}

// ConsoleTemplate returns the source of a console template, for tests.
func ConsoleTemplate(name string) ([]byte, error) {
	return files.ReadFile("console/templates/" + name + ".html")
}

// ConsolePages are the names of the console's page templates.
func ConsolePages() []string {
	out := make([]string, 0, len(console.pages))
	for name := range console.pages {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ConsoleLanguage picks the page language: an explicit choice (the
// language switch's ?lang= or its cookie) if the console speaks it, else
// the best of the browser's Accept-Language, else English.
func ConsoleLanguage(choice, acceptLanguage string) string {
	if _, ok := console.catalog[choice]; ok {
		return choice
	}
	type pref struct {
		lang string
		q    float64
	}
	var prefs []pref
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if _, ok := console.catalog[base]; ok && q > 0 {
			prefs = append(prefs, pref{base, q})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	if len(prefs) > 0 {
		return prefs[0].lang
	}
	return "en"
}

// RenderConsole writes the page template name with p.
func RenderConsole(w io.Writer, name string, p ConsolePage) error {
	t, ok := console.pages[name]
	if !ok {
		return fmt.Errorf("no console template %q", name)
	}
	p.msgs = console.catalog[p.Lang]
	if p.msgs == nil {
		p.msgs = console.catalog["en"]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render console page %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ConsoleStatic serves the console's style sheet, scripts and images by
// file name (the rest of the path after /app/static/).
func ConsoleStatic(name string) (http.Handler, bool) {
	a, ok := console.static[name]
	return a, ok
}
