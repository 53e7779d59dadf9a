// Package pdftest writes small PDF files for tests: pages of text in one or
// two columns, outline entries, and pages holding only an image, so that
// the PDF loader is tested on files made the way real ones are (with
// codeberg.org/go-pdf/fpdf) rather than on hand-written bytes.
package pdftest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Page is one page of a test PDF.
type Page struct {
	// Outline, if set, is an outline entry (a bookmark) pointing at the top
	// of this page; Level is its depth (0 is the top level).
	Outline string
	Level   int
	// Heading is a line in large type at the top of the page, across both
	// columns.
	Heading string
	// Columns holds the page's paragraphs: one slice is a single column
	// across the page, two are a left and a right column.
	Columns [][]string
	// Table is rows of cells printed under the columns, one cell a column.
	Table [][]string
	// Image puts a picture on the page (a page with an image and no text
	// is what a scanned page looks like to a text extractor).
	Image bool
}

// Build returns a PDF with the given title (in its document information)
// and pages. The output depends only on the arguments.
func Build(title string, pages []Page) ([]byte, error) {
	f := fpdf.New("P", "pt", "A4", "")
	f.SetCreationDate(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	f.SetModificationDate(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	f.SetCatalogSort(true)
	if title != "" {
		f.SetTitle(title, true)
	}
	f.SetMargins(50, 50, 50)
	f.SetAutoPageBreak(false, 50)
	pageW, _ := f.GetPageSize()
	for _, p := range pages {
		f.AddPage()
		if p.Outline != "" {
			f.Bookmark(p.Outline, p.Level, 0)
		}
		if p.Heading != "" {
			f.SetFont("Helvetica", "B", 18)
			f.MultiCell(0, 24, p.Heading, "", "L", false)
			f.Ln(10)
		}
		f.SetFont("Helvetica", "", 11)
		top := f.GetY()
		bottom := top
		width := pageW - 100
		const gutter = 30
		colW := width
		if len(p.Columns) > 1 {
			colW = (width - gutter*float64(len(p.Columns)-1)) / float64(len(p.Columns))
		}
		for i, col := range p.Columns {
			f.SetXY(50+float64(i)*(colW+gutter), top)
			f.SetLeftMargin(50 + float64(i)*(colW+gutter))
			for _, para := range col {
				f.MultiCell(colW, 14, para, "", "L", false)
				f.Ln(8)
			}
			bottom = max(bottom, f.GetY())
		}
		f.SetLeftMargin(50)
		f.SetXY(50, bottom)
		if len(p.Table) > 0 {
			cellW := width / float64(len(p.Table[0]))
			for _, row := range p.Table {
				for _, cell := range row {
					f.CellFormat(cellW, 16, cell, "1", 0, "L", false, 0, "")
				}
				f.Ln(16)
			}
		}
		if p.Image {
			if err := addImage(f, fmt.Sprintf("scan%d", f.PageNo())); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("write test PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// addImage draws a grey picture with a dark band, like a scanned page.
func addImage(f *fpdf.Fpdf, name string) error {
	img := image.NewGray(image.Rect(0, 0, 120, 160))
	for y := range 160 {
		for x := range 120 {
			v := uint8(230)
			if y%20 < 3 {
				v = 40
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode test image: %w", err)
	}
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	f.RegisterImageOptionsReader(name, opts, &buf)
	f.ImageOptions(name, 50, 80, 480, 640, false, opts, 0, "")
	return f.Error()
}
