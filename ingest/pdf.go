package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// PDF files are read in pure Go with github.com/ledongthuc/pdf (chosen over
// github.com/dslipak/pdf after comparing both on generated and real files:
// see BENCHMARKS.md). A PDF becomes one article whose sections are its
// pages, "Page N", under the outline entry (bookmark) that the page belongs
// to when the file has an outline, so answers cite "Guide > Returns > Page 3".
// Text is read in reading order as far as positions allow: lines top to
// bottom, two columns one after the other, table cells joined with " | ".
// A page without a text layer (a scan, or only pictures) is reported as
// skipped; a file with no text at all is skipped as a whole.

// maxOutlineEntries bounds the outline walk of a malformed (looping) file.
const maxOutlineEntries = 10_000

// pdfPage is the text of one page and the outline path it is filed under.
type pdfPage struct {
	number  int
	outline []string
	paras   []string
}

// loadPDF reads a PDF file as an article. Pages without text are reported
// in skipped, by origin ("guide.pdf page 3") and reason.
func loadPDF(data []byte, name string) (d Document, skipped []Skipped, err error) {
	defer func() {
		// The reader panics on some malformed files.
		if x := recover(); x != nil {
			err = inputErrorf(name, "", "not a readable PDF: %v", x)
		}
	}()
	if bytes.HasPrefix(data, []byte("%PDF-2.")) {
		// The reader knows PDF 1.0-1.7 headers; 2.0 reads the same for text.
		data = append([]byte("%PDF-1.7"), data[len("%PDF-2.0"):]...)
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || errors.Is(err, pdf.ErrInvalidPassword) {
			return Document{}, nil, inputErrorf(name, "", "the PDF is encrypted; save an unprotected copy")
		}
		return Document{}, nil, inputErrorf(name, "", "not a readable PDF: %v", err)
	}
	n := r.NumPage()
	outline := pdfOutline(r, n)
	var pages []pdfPage
	fonts := fontCache{}
	for i := 1; i <= n; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		paras := pageParagraphs(p, fonts)
		if len(paras) == 0 {
			skipped = append(skipped, Skipped{Origin: fmt.Sprintf("%s page %d", name, i), Reason: "no text layer (a scanned page or only images); run OCR on it to include it"})
			continue
		}
		pages = append(pages, pdfPage{number: i, outline: outline[i], paras: paras})
	}
	if len(pages) == 0 {
		return Document{}, nil, nil
	}
	info := r.Trailer().Key("Info")
	title := collapseSpace(info.Key("Title").Text())
	if title == "" {
		title = titleFromName(name)
	}
	return Document{
		ExternalID: name,
		Kind:       KindArticle,
		Title:      title,
		Language:   strings.TrimSpace(r.Trailer().Key("Root").Key("Lang").Text()),
		Body:       pdfBody(pages),
		Origin:     name,
	}, skipped, nil
}

// pdfBody writes the pages as an article Body: outline entries as headings,
// then "Page N" one level below them, then the page's paragraphs.
func pdfBody(pages []pdfPage) string {
	var lines []string
	var open []string // the outline path whose headings are written
	for _, p := range pages {
		common := 0
		for common < len(open) && common < len(p.outline) && open[common] == p.outline[common] {
			common++
		}
		for i := common; i < len(p.outline); i++ {
			lines = append(lines, strings.Repeat("#", min(i+1, 5))+" "+p.outline[i], "")
		}
		open = p.outline
		lines = append(lines, strings.Repeat("#", min(len(p.outline)+1, 6))+fmt.Sprintf(" Page %d", p.number), "")
		for _, para := range p.paras {
			for line := range strings.SplitSeq(para, "\n") {
				lines = append(lines, escapeMarkup(line))
			}
			lines = append(lines, "")
		}
	}
	return squeezeBlankLines(lines)
}

// pdfOutline maps page numbers (1 to n) to the outline path each page is
// filed under: the first entry that begins on the page, else the entry in
// force from an earlier page. Entries whose destination cannot be resolved
// are left out.
func pdfOutline(r *pdf.Reader, n int) map[int][]string {
	root := r.Trailer().Key("Root")
	pageNum := make(map[string]int, n)
	for i := 1; i <= n; i++ {
		if p := r.Page(i); !p.V.IsNull() {
			pageNum[p.V.String()] = i
		}
	}
	type entry struct {
		page int
		path []string
	}
	var entries []entry
	seen := 0
	var walk func(v pdf.Value, path []string)
	walk = func(v pdf.Value, path []string) {
		for item := v.Key("First"); item.Kind() == pdf.Dict && seen < maxOutlineEntries; item = item.Key("Next") {
			seen++
			title := collapseSpace(item.Key("Title").Text())
			if title == "" {
				continue
			}
			p := append(append([]string(nil), path...), title)
			if page := pageNum[destPage(root, item).String()]; page > 0 {
				entries = append(entries, entry{page, p})
			}
			if len(p) < 6 {
				walk(item, p)
			}
		}
	}
	walk(root.Key("Outlines"), nil)
	out := make(map[int][]string, n)
	if len(entries) == 0 {
		return out
	}
	var current []string
	for i := 1; i <= n; i++ {
		var first []string
		for _, e := range entries {
			if e.page == i && first == nil {
				first = e.path
			}
		}
		if first != nil {
			out[i] = first
		} else {
			out[i] = current
		}
		// What is in force after page i is the last entry begun on it or before.
		for _, e := range entries {
			if e.page == i {
				current = e.path
			}
		}
	}
	return out
}

// destPage returns the page dictionary an outline item points at, or a
// null value: its /Dest, or the /D of a GoTo action, an explicit
// destination array or a named one.
func destPage(root, item pdf.Value) pdf.Value {
	dest := item.Key("Dest")
	if dest.IsNull() {
		if a := item.Key("A"); a.Key("S").Name() == "GoTo" {
			dest = a.Key("D")
		}
	}
	switch dest.Kind() {
	case pdf.Name:
		dest = root.Key("Dests").Key(dest.Name())
	case pdf.String:
		dest = lookupName(root.Key("Names").Key("Dests"), dest.RawString(), 0)
	}
	if dest.Kind() == pdf.Dict {
		dest = dest.Key("D")
	}
	if dest.Kind() != pdf.Array || dest.Len() == 0 {
		return pdf.Value{}
	}
	return dest.Index(0)
}

// lookupName finds key in a PDF name tree.
func lookupName(node pdf.Value, key string, depth int) pdf.Value {
	if depth > 20 || node.Kind() != pdf.Dict {
		return pdf.Value{}
	}
	if names := node.Key("Names"); names.Kind() == pdf.Array {
		for i := 0; i+1 < names.Len(); i += 2 {
			if names.Index(i).RawString() == key {
				return names.Index(i + 1)
			}
		}
	}
	kids := node.Key("Kids")
	for i := 0; i < kids.Len(); i++ {
		if v := lookupName(kids.Index(i), key, depth+1); !v.IsNull() {
			return v
		}
	}
	return pdf.Value{}
}
