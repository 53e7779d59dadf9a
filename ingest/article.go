package ingest

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// articleMeta is what an article file says about itself besides its text.
type articleMeta struct {
	title, url, language, intent string
	tags                         []string
}

// loadArticle reads one article. name is its path in the upload, used as
// the ExternalID and the origin. The title comes from the file (front
// matter, <title>, first heading or first line, by format), else from the
// file name.
func loadArticle(data []byte, name string, format Format) (Document, error) {
	text, err := decodeText(data, name)
	if err != nil {
		return Document{}, err
	}
	var meta articleMeta
	var body string
	switch format {
	case FormatMarkdown:
		meta, body = markdownArticle(text)
	case FormatHTML:
		meta, body = htmlArticle(text)
	case FormatText:
		meta, body = plainTextArticle(text)
	default:
		return Document{}, fmt.Errorf("load %s: %s is not an article format", name, format)
	}
	if meta.title == "" {
		meta.title = titleFromName(name)
	}
	return Document{
		ExternalID: name,
		Kind:       KindArticle,
		Title:      meta.title,
		URL:        meta.url,
		Language:   meta.language,
		Intent:     meta.intent,
		Tags:       meta.tags,
		Body:       body,
		Origin:     name,
	}, nil
}

// titleFromName makes "getting-started.md" into "getting started".
func titleFromName(name string) string {
	base := path.Base(name)
	base = strings.TrimSuffix(base, path.Ext(base))
	return strings.Join(strings.FieldsFunc(base, func(r rune) bool { return r == '-' || r == '_' || r == ' ' }), " ")
}

// collapseSpace turns every run of white space into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shortTitle is the longest a first line may be to serve as a title.
const shortTitle = 100

func isShort(s string) bool {
	return s != "" && utf8.RuneCountInString(s) <= shortTitle
}
