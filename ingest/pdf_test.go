package ingest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/ingest/pdftest"
)

// buildPDF writes a test PDF or fails the test.
func buildPDF(t testing.TB, title string, pages []pdftest.Page) []byte {
	t.Helper()
	data, err := pdftest.Build(title, pages)
	if err != nil {
		t.Fatalf("build PDF: %v", err)
	}
	return data
}

func loadPDFBytes(t testing.TB, name string, data []byte) ([]ingest.Document, ingest.LoadReport, error) {
	t.Helper()
	return ingest.LoadReader(context.Background(), bytes.NewReader(data), name, ingest.LoadOptions{})
}

// guidePDF is a three-page guide with an outline, a two-column page, a
// table and a page holding only a picture.
func guidePDF(t testing.TB) []byte {
	return buildPDF(t, "Plant Care Guide", []pdftest.Page{
		{Outline: "Watering", Heading: "Watering", Columns: [][]string{{
			"Water your fern twice a week in summer and once a week in winter.",
			"Never let the pot stand in water: the roots rot within days.",
		}}},
		{Outline: "Light", Columns: [][]string{
			{"Left column first paragraph about bright indirect light for most plants.", "Left column second paragraph: a north window suits ferns."},
			{"Right column first paragraph about direct sun for cacti and succulents.", "Right column second paragraph: turn pots every month."},
		}, Table: [][]string{{"Plant", "Light", "Water"}, {"Fern", "Shade", "Weekly"}}},
		{Image: true},
		{Outline: "Repotting", Level: 0, Columns: [][]string{{"Repot in spring into a pot one size larger."}}},
	})
}

func TestLoadPDF(t *testing.T) {
	t.Parallel()
	docs, report, err := loadPDFBytes(t, "guide.pdf", guidePDF(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(docs) != 1 {
		t.Fatalf("got %d documents, want 1", len(docs))
	}
	d := docs[0]
	if d.Kind != ingest.KindArticle || d.Title != "Plant Care Guide" || d.ExternalID != "guide.pdf" {
		t.Errorf("document = kind %q title %q id %q", d.Kind, d.Title, d.ExternalID)
	}
	body := d.Body
	for _, want := range []string{
		"# Watering\n\n## Page 1\n\nWatering\n\nWater your fern twice a week in summer and once a week in winter.",
		"# Light\n\n## Page 2\n\n",
		"Plant | Light | Water\nFern | Shade | Weekly",
		"# Repotting\n\n## Page 4\n\nRepot in spring",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q; body:\n%s", want, body)
		}
	}
	// Two columns are read one after the other, not line by line across.
	order := []string{"Left column first", "Left column second", "Right column first", "Right column second", "Plant | Light"}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i < last {
			t.Errorf("%q is out of reading order in:\n%s", s, body)
		}
		last = i
	}
	if strings.Contains(body, "Page 3") {
		t.Errorf("the image-only page has a section:\n%s", body)
	}
	if len(report.Skipped) != 1 || report.Skipped[0].Origin != "guide.pdf page 3" || !strings.Contains(report.Skipped[0].Reason, "no text layer") {
		t.Errorf("skipped = %+v, want page 3 without a text layer", report.Skipped)
	}
}

func TestPDFChunksCitePages(t *testing.T) {
	t.Parallel()
	docs, _, err := loadPDFBytes(t, "guide.pdf", guidePDF(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	chunks := chunk(t, ingest.NewChunker(tokenizer(t), ingest.ChunkOptions{}), docs[0])
	sections := map[string]bool{}
	for _, c := range chunks {
		sections[c.SectionPath] = true
	}
	for _, want := range []string{"Watering > Page 1", "Light > Page 2", "Repotting > Page 4"} {
		if !sections[want] {
			t.Errorf("no chunk in section %q; sections %v", want, sections)
		}
	}
}

func TestLoadPDFWithoutOutline(t *testing.T) {
	t.Parallel()
	data := buildPDF(t, "", []pdftest.Page{
		{Columns: [][]string{{"Opening hours are 9 to 5 on weekdays."}}},
		{Columns: [][]string{{"We are closed on public holidays."}}},
	})
	docs, _, err := loadPDFBytes(t, "opening-hours.pdf", data)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	want := "# Page 1\n\nOpening hours are 9 to 5 on weekdays.\n\n# Page 2\n\nWe are closed on public holidays."
	if docs[0].Body != want || docs[0].Title != "opening hours" {
		t.Errorf("got title %q body\n%q\nwant body\n%q", docs[0].Title, docs[0].Body, want)
	}
}

func TestLoadPDFScanned(t *testing.T) {
	t.Parallel()
	data := buildPDF(t, "Scan", []pdftest.Page{{Image: true}, {Image: true}})
	docs, report, err := loadPDFBytes(t, "scan.pdf", data)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(docs) != 0 {
		t.Fatalf("got %d documents from a scan, want none", len(docs))
	}
	var reasons []string
	for _, s := range report.Skipped {
		reasons = append(reasons, s.Origin+": "+s.Reason)
	}
	got := strings.Join(reasons, "\n")
	if !strings.Contains(got, "scan.pdf: no text layer on any page") {
		t.Errorf("skipped:\n%s\nwant the file reported without a text layer", got)
	}
}

func TestLoadPDFBroken(t *testing.T) {
	t.Parallel()
	good := guidePDF(t)
	for name, data := range map[string][]byte{
		"not a pdf": []byte("hello, this is text"),
		"truncated": good[:len(good)/2],
		"header":    []byte("%PDF-1.4\n%%EOF\n"),
	} {
		_, _, err := loadPDFBytes(t, "bad.pdf", data)
		wantInputError(t, err, "bad.pdf", "not a readable PDF")
		_ = name
	}
}

func TestLoadPDFFromZipAndFolder(t *testing.T) {
	t.Parallel()
	data := guidePDF(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("manuals/guide.pdf")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	docs, _, err := loadPDFBytes(t, "kb.zip", buf.Bytes())
	if err != nil || len(docs) != 1 || docs[0].ExternalID != "manuals/guide.pdf" || !strings.Contains(docs[0].Body, "## Page 2") {
		t.Fatalf("zip: docs %+v, err %v", docs, err)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "guide.pdf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	docs, _, err = ingest.LoadPath(context.Background(), dir, ingest.LoadOptions{Kind: ingest.KindArticle})
	if err != nil || len(docs) != 1 || docs[0].Title != "Plant Care Guide" {
		t.Fatalf("folder: docs %+v, err %v", docs, err)
	}
}

var updateSample = flag.Bool("update-sample-pdf", false, "write the sample suite's PDF anew")

// samplePDF is the sample knowledge's PDF (make demo shows an answer citing
// its page): a Bramble & Co. guide to plant care during holidays.
const samplePDF = "../evals/suites/sample/knowledge/articles/holiday-plant-care.pdf"

// The committed sample PDF is what pdftest makes of this guide, and it
// loads as a paged article (go test ./ingest -update-sample-pdf rewrites it).
func TestSamplePDF(t *testing.T) {
	data := buildPDF(t, "Holiday Plant Care Guide", []pdftest.Page{
		{Outline: "Before you leave", Heading: "Holiday Plant Care", Columns: [][]string{{
			"Going on holiday? Most houseplants cope with one week alone if you prepare them well.",
			"The day before you leave, water every plant thoroughly and move them 1-2 metres away from sunny windows, so they dry out more slowly.",
			"Group plants together on a tray of wet gravel: they keep each other humid while you are away.",
		}}},
		{Outline: "Longer trips", Columns: [][]string{{
			"For trips of two to three weeks, use a self-watering wick: put one end of a cotton cord in a jug of water and push the other end into the soil, one cord per pot.",
			"Bramble self-watering pots hold enough water for about three weeks in summer and five weeks in winter.",
			"Away for longer than three weeks? Ask a neighbour to water once a week, and leave a note saying which plants need less water, such as succulents and cacti.",
		}}},
		{Outline: "When you come back", Columns: [][]string{{
			"Check the soil before watering: water only plants whose top 2-3 cm of soil are dry.",
			"Remove yellow leaves, and give plants a week in their usual place before feeding them again.",
		}}},
	})
	if *updateSample {
		if err := os.WriteFile(samplePDF, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(samplePDF)
	if err != nil {
		t.Fatalf("read the sample PDF (write it with -update-sample-pdf): %v", err)
	}
	if !bytes.Equal(committed, data) {
		t.Fatalf("%s differs from what pdftest makes of the guide; run go test ./ingest -run TestSamplePDF -update-sample-pdf", samplePDF)
	}
	docs, _, err := loadPDFBytes(t, "holiday-plant-care.pdf", committed)
	if err != nil || len(docs) != 1 || !strings.Contains(docs[0].Body, "# Longer trips\n\n## Page 2") {
		t.Fatalf("sample PDF: %+v, %v", docs, err)
	}
}
