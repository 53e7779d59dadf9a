package ingest

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlSkipped are elements whose content is page furniture, not article
// text.
var htmlSkipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Nav: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Form: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Button: true, atom.Select: true, atom.Textarea: true,
	atom.Object: true, atom.Canvas: true, atom.Dialog: true, atom.Title: true,
}

// htmlBlocks are elements that start and end a paragraph.
var htmlBlocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Blockquote: true, atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Table: true,
	atom.Figure: true, atom.Figcaption: true, atom.Details: true, atom.Summary: true,
	atom.Address: true, atom.Fieldset: true, atom.Hr: true, atom.Body: true, atom.Caption: true,
}

// htmlLines are elements that start and end a line within a paragraph.
var htmlLines = map[atom.Atom]bool{
	atom.Li: true, atom.Tr: true, atom.Dt: true, atom.Dd: true, atom.Br: true,
}

var htmlHeadings = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// htmlArticle extracts an article from an HTML page: headings become "#"
// lines, paragraphs, list items ("- item") and table rows ("a | b") become
// text lines, <pre> becomes a fenced block. Only the main content is read
// when the page marks it (<main>, role="main", or a single <article>);
// scripts, styles, navigation, headers, footers, asides, forms and cookie
// or consent banners are dropped, as is anything marked hidden. The title is <title>, else the first <h1>; the language is
// <html lang>; the URL is the canonical link.
func htmlArticle(text string) (articleMeta, string) {
	doc, err := html.Parse(strings.NewReader(text))
	if err != nil { // only read errors, impossible on a string reader
		return articleMeta{}, ""
	}
	var meta articleMeta
	findHTMLMeta(doc, &meta)
	w := &htmlWriter{}
	if main := mainContent(doc); main != nil {
		w.inMain++
		w.walk(main)
	} else {
		w.walk(doc)
	}
	w.paragraph()
	// "Shipping | Acme Help" with <h1>Shipping</h1>: the page title is the
	// heading plus the site's name; the heading is the article's title.
	if meta.title == "" || (w.firstH1 != "" && strings.HasPrefix(meta.title, w.firstH1)) {
		meta.title = w.firstH1
	}
	return meta, squeezeBlankLines(w.lines)
}

func findHTMLMeta(n *html.Node, meta *articleMeta) {
	if n.Type == html.ElementNode {
		switch n.DataAtom {
		case atom.Html:
			meta.language = strings.TrimSpace(attr(n, "lang"))
		case atom.Title:
			if meta.title == "" {
				var b strings.Builder
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.TextNode {
						b.WriteString(c.Data)
					}
				}
				meta.title = collapseSpace(b.String())
			}
		case atom.Link:
			if strings.EqualFold(attr(n, "rel"), "canonical") {
				meta.url = strings.TrimSpace(attr(n, "href"))
			}
		case atom.Body:
			return
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		findHTMLMeta(c, meta)
	}
}

// htmlWriter collects the text lines of a page.
type htmlWriter struct {
	lines   []string
	cur     strings.Builder // the line being built
	firstH1 string
	inMain  int // depth of <article> and <main>: a <header> there is the article's own
}

func (w *htmlWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
		ownHeader := w.inMain > 0 && n.DataAtom == atom.Header
		if (htmlSkipped[n.DataAtom] && !ownHeader) || hiddenElement(n) {
			return
		}
		if n.DataAtom == atom.Article || n.DataAtom == atom.Main {
			w.inMain++
			defer func() { w.inMain-- }()
		}
		if level, ok := htmlHeadings[n.DataAtom]; ok {
			w.heading(level, collapseSpace(textContent(n)))
			return
		}
		switch n.DataAtom {
		case atom.Pre:
			w.pre(textContent(n))
			return
		case atom.Td, atom.Th:
			if w.cur.Len() > 0 {
				w.cur.WriteString(" | ")
			}
		case atom.Img:
			return
		}
	}
	block, line := htmlBlocks[n.DataAtom], htmlLines[n.DataAtom]
	switch {
	case block:
		w.paragraph()
	case line:
		w.line()
	}
	if n.DataAtom == atom.Li && n.Type == html.ElementNode {
		w.cur.WriteString("- ")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	switch {
	case block:
		w.paragraph()
	case line:
		w.line()
	}
}

// text adds inline text, collapsing white space.
func (w *htmlWriter) text(s string) {
	if strings.TrimSpace(s) == "" {
		if w.cur.Len() > 0 {
			w.space()
		}
		return
	}
	if s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r' {
		w.space()
	}
	w.cur.WriteString(collapseSpace(s))
	if last := s[len(s)-1]; last == ' ' || last == '\n' || last == '\t' || last == '\r' {
		w.space()
	}
}

func (w *htmlWriter) space() {
	cur := w.cur.String()
	if cur != "" && !strings.HasSuffix(cur, " ") {
		w.cur.WriteByte(' ')
	}
}

// line ends the current line.
func (w *htmlWriter) line() {
	line := strings.TrimSpace(w.cur.String())
	w.cur.Reset()
	if line == "" || line == "-" {
		return
	}
	w.lines = append(w.lines, escapeMarkup(line))
}

// paragraph ends the current line and the paragraph.
func (w *htmlWriter) paragraph() {
	w.line()
	if len(w.lines) > 0 && w.lines[len(w.lines)-1] != "" {
		w.lines = append(w.lines, "")
	}
}

func (w *htmlWriter) heading(level int, text string) {
	w.paragraph()
	if text == "" {
		return
	}
	if level == 1 && w.firstH1 == "" {
		w.firstH1 = text
	}
	w.lines = append(w.lines, strings.Repeat("#", level)+" "+text, "")
}

// pre keeps preformatted text as it is, between fences.
func (w *htmlWriter) pre(text string) {
	w.paragraph()
	text = strings.Trim(text, "\n")
	if strings.TrimSpace(text) == "" {
		return
	}
	w.lines = append(w.lines, "```")
	for line := range strings.SplitSeq(text, "\n") {
		if fenceMarker(line) != "" {
			line = `\` + line // would close the block early
		}
		w.lines = append(w.lines, line)
	}
	w.lines = append(w.lines, "```", "")
}

// textContent is the text of n and its descendants, skipping furniture.
func textContent(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && (htmlSkipped[n.DataAtom] || hiddenElement(n)):
			return
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// furnitureRoles are ARIA roles of page furniture.
var furnitureRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
	"search": true, "dialog": true, "alertdialog": true, "menu": true, "menubar": true,
}

// mainContent returns the element holding a page's main content: the
// first <main> or role="main" element, else the page's only <article>; nil
// when the page marks none.
func mainContent(doc *html.Node) *html.Node {
	var main *html.Node
	var articles []*html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if main != nil {
			return
		}
		if n.Type == html.ElementNode {
			switch {
			case n.DataAtom == atom.Main || strings.EqualFold(attr(n, "role"), "main"):
				main = n
				return
			case n.DataAtom == atom.Article:
				articles = append(articles, n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if main == nil && len(articles) == 1 {
		main = articles[0]
	}
	return main
}

// hiddenElement reports whether n is hidden, page furniture by its role,
// or a cookie or consent banner by its id or class.
func hiddenElement(n *html.Node) bool {
	for _, a := range n.Attr {
		switch {
		case a.Key == "role" && furnitureRoles[strings.ToLower(a.Val)]:
			return true
		case (a.Key == "id" || a.Key == "class") && bannerName(a.Val):
			return true
		case a.Key == "hidden", a.Key == "aria-hidden" && a.Val == "true":
			return true
		case a.Key == "style" && strings.Contains(strings.ReplaceAll(a.Val, " ", ""), "display:none"):
			return true
		}
	}
	return false
}

// bannerName reports whether an id or class names a cookie or consent
// banner ("cookie-banner", "gdpr-consent").
func bannerName(v string) bool {
	v = strings.ToLower(v)
	return strings.Contains(v, "cookie") || strings.Contains(v, "consent") || strings.Contains(v, "gdpr")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
