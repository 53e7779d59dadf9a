package ingest_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
)

func TestLoadArticles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		content string
		want    ingest.Document
		absent  []string // must not appear in Body
	}{
		{
			name: "markdown",
			file: "help/refunds.md",
			content: "# Refunds\n\nSee [the policy](https://x/p \"t\") and ![logo](logo.png) <b>now</b>.\n<!-- hidden\nnote -->\n\nBilling\n-------\n\n" +
				"Text with a [ref link][1].\n\n[1]: https://x/ref\n\n```sh\n# a comment, not a heading\n\n\n\necho hi\n```\n\n***\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
			want: ingest.Document{
				ExternalID: "refunds.md", Kind: ingest.KindArticle, Title: "Refunds", Origin: "refunds.md",
				Body: "# Refunds\n\nSee the policy and now.\n\n## Billing\n\nText with a ref link.\n\n```sh\n# a comment, not a heading\n\n\n\necho hi\n```\n\n| a | b |\n| 1 | 2 |",
			},
			absent: []string{"https://", "logo", "<b>", "hidden", "[1]"},
		},
		{
			name:    "markdown front matter, setext title",
			file:    "a.markdown",
			content: "---\ntitle: \"Returns\"\nlang: fr\nurl: https://x/returns\ntags: [a, b]\n---\nRetours\n=======\n\nTexte.\n",
			want:    ingest.Document{Title: "Returns", Language: "fr", URL: "https://x/returns", Tags: []string{"a", "b"}, Body: "# Retours\n\nTexte."},
		},
		{
			name:    "markdown without heading",
			file:    "getting-started.md",
			content: "Just text.\n",
			want:    ingest.Document{Title: "getting started", Body: "Just text."},
		},
		{
			name: "html",
			file: "shipping.html",
			content: `<!doctype html><html lang="en"><head><title>Shipping | Acme</title><style>p{}</style>
<link rel="canonical" href="https://help.acme.example/shipping"></head><body>
<nav>Home &gt; Help</nav><header>Acme</header><form>Search <input></form>
<article><header><h1>Shipping</h1></header>
<p>We   ship to <b>30</b>
countries &amp; more.</p><h2>Tracking <small>(new)</small></h2><ol><li>Open the mail.</li><li>Click <a href="/t">Track</a>.</li></ol>
<p>Line one<br>line two</p><pre>  # indented code
  two</pre><table><tr><th>Zone</th><th>Days</th></tr><tr><td>EU</td><td>2</td></tr></table>
<script>var secret = 1;</script><noscript>enable JS</noscript><div hidden>draft</div><p style="display: none">gone</p>
<p># not a heading</p><footer>Was this helpful?</footer></article><aside>Related</aside><footer>(c) Acme</footer></body></html>`,
			want: ingest.Document{
				Title: "Shipping", Language: "en", URL: "https://help.acme.example/shipping",
				Body: "# Shipping\n\nWe ship to 30 countries & more.\n\n## Tracking (new)\n\n- Open the mail.\n- Click Track.\n\nLine one\nline two\n\n```\n  # indented code\n  two\n```\n\nZone | Days\nEU | 2\n\n\\# not a heading",
			},
			absent: []string{"secret", "Home", "Search", "enable JS", "draft", "gone", "Related", "(c)", "helpful"},
		},
		{
			name:    "html title from h1",
			file:    "x.htm",
			content: "<h1>Opening hours</h1><p>9 to 5.</p>",
			want:    ingest.Document{Title: "Opening hours", Body: "# Opening hours\n\n9 to 5."},
		},
		{
			name:    "text with a short first line",
			file:    "hours.txt",
			content: "\n  Opening hours  \n\nWe answer 9 to 5.\n# not a heading\n```\n",
			want:    ingest.Document{Title: "Opening hours", Body: "We answer 9 to 5.\n\\# not a heading\n\\```"},
		},
		{
			name:    "text with a long first line",
			file:    "notes.txt",
			content: strings.Repeat("word ", 30) + "\nmore",
			want:    ingest.Document{Title: "notes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			docs, _, err := load(t, tt.file, tt.content, ingest.LoadOptions{})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkDocs(t, docs, []ingest.Document{tt.want})
			for _, a := range tt.absent {
				if strings.Contains(docs[0].Body, a) {
					t.Errorf("Body contains %q:\n%s", a, docs[0].Body)
				}
			}
		})
	}
}

func TestLoadArticleEmpty(t *testing.T) {
	t.Parallel()
	docs, report, err := load(t, "empty.html", "<html><script>x</script></html>", ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 0 || len(report.Skipped) != 1 || report.Skipped[0].Reason != "no text" {
		t.Errorf("docs = %+v, report = %+v; want the article skipped", docs, report)
	}
}
