package crawl

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageMeta is what the crawl reads from a page besides its text: the
// links to follow, the canonical URL and the robots meta directives.
type pageMeta struct {
	links     []string
	canonical string
	noindex   bool
	nofollow  bool
}

// readPageMeta reads the links (<a href>, resolved against base, or the
// page's <base href>), the canonical link and <meta name="robots"> of an
// HTML page. Links marked rel="nofollow" are not followed.
func readPageMeta(body []byte, base *url.URL) pageMeta {
	var m pageMeta
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return m
	}
	var hrefs []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Base:
				if b, err := base.Parse(attr(n, "href")); err == nil && attr(n, "href") != "" {
					base = b
				}
			case atom.A:
				if href := attr(n, "href"); href != "" && !hasToken(attr(n, "rel"), "nofollow") {
					hrefs = append(hrefs, href)
				}
			case atom.Link:
				if hasToken(attr(n, "rel"), "canonical") {
					m.canonical = attr(n, "href")
				}
			case atom.Meta:
				if name := strings.ToLower(attr(n, "name")); name == "robots" || name == "parleybot" {
					content := strings.ToLower(attr(n, "content"))
					m.noindex = m.noindex || strings.Contains(content, "noindex") || strings.Contains(content, "none")
					m.nofollow = m.nofollow || strings.Contains(content, "nofollow") || strings.Contains(content, "none")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, h := range hrefs {
		if u, err := base.Parse(strings.TrimSpace(h)); err == nil {
			m.links = append(m.links, u.String())
		}
	}
	if m.canonical != "" {
		if u, err := base.Parse(strings.TrimSpace(m.canonical)); err == nil {
			m.canonical = u.String()
		} else {
			m.canonical = ""
		}
	}
	return m
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasToken reports whether a space-separated attribute holds token.
func hasToken(list, token string) bool {
	for _, t := range strings.Fields(strings.ToLower(list)) {
		if t == token {
			return true
		}
	}
	return false
}
