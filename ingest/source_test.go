package ingest_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
)

func TestLoadPathTree(t *testing.T) {
	t.Parallel()
	docs, report, err := ingest.LoadPath(context.Background(), "testdata/kb", ingest.LoadOptions{})
	if err != nil {
		t.Fatalf("LoadPath: %v", err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ExternalID)
	}
	// Files in name order, then rows in file order; hidden files left out.
	wantIDs := []string{"c-1", "c-3", "docs/opening-hours.txt", "docs/refunds.md", "docs/shipping.html", "reset-password"}
	if !slices.Equal(ids[:len(wantIDs)], wantIDs) || len(ids) != len(wantIDs)+2 {
		t.Errorf("ExternalIDs = %q, want %q and two generated FAQ ids", ids, wantIDs)
	}
	if report.Files != 5 || report.Documents != len(docs) {
		t.Errorf("report = %+v, want 5 files and %d documents", report, len(docs))
	}
	wantSkipped := []ingest.Skipped{
		{Origin: "convs.jsonl:2", Reason: "no agent reply and no resolution"},
		{Origin: "images/logo.png", Reason: `unknown file type ".png"`},
	}
	if !slices.Equal(report.Skipped, wantSkipped) {
		t.Errorf("skipped = %+v, want %+v", report.Skipped, wantSkipped)
	}
	for _, d := range docs {
		if strings.Contains(d.Question+d.Answer, "@example.com") || strings.Contains(d.Question, "7946") {
			t.Errorf("%s: PII left in %q / %q", d.Origin, d.Question, d.Answer)
		}
	}
}

func TestLoadPathKindFilter(t *testing.T) {
	t.Parallel()
	docs, report, err := ingest.LoadPath(context.Background(), "testdata/kb", ingest.LoadOptions{Kind: ingest.KindArticle})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Errorf("got %d documents, want the 3 articles", len(docs))
	}
	var reasons []string
	for _, s := range report.Skipped {
		reasons = append(reasons, s.Origin+": "+s.Reason)
	}
	want := []string{
		`convs.jsonl: a .jsonl file does not hold article documents`,
		`faq.csv: a .csv file does not hold article documents`,
		`images/logo.png: unknown file type ".png"`,
	}
	if !slices.Equal(reasons, want) {
		t.Errorf("skipped = %q, want %q", reasons, want)
	}
}

func TestLoadPathFile(t *testing.T) {
	t.Parallel()
	docs, _, err := ingest.LoadPath(context.Background(), "testdata/kb/docs/refunds.md", ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].ExternalID != "refunds.md" || docs[0].Title != "Refunds and returns" {
		t.Errorf("docs = %+v", docs)
	}
}

func TestLoadPathErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big/faq.csv", "question,answer\n"+strings.Repeat("q,a\n", 1000))
	write("many/a.md", "a")
	write("many/b.md", "b")
	write("many/c.md", "c")
	write("records/a.csv", "question,answer\na,1\nb,2\n")
	write("records/b.csv", "question,answer\nc,3\nd,4\n")
	write("dups/a.csv", "id,question,answer\nx,a,1\n")
	write("dups/b.jsonl", `{"id": "x", "question": "b", "answer": "2"}`)
	write("total/a.md", strings.Repeat("a", 600))
	write("total/b.md", strings.Repeat("b", 600))
	unknown := write("notes.rtf", "{\\rtf1}")
	tests := []struct {
		name string
		path string
		opts ingest.LoadOptions
		want []string
		is   error
	}{
		{"file too large", big, ingest.LoadOptions{MaxFileBytes: 1000}, []string{"faq.csv: file too large: 4016 bytes, limit 1000"}, ingest.ErrTooLarge},
		{"too many files", filepath.Join(dir, "many"), ingest.LoadOptions{MaxFiles: 2}, []string{"c.md: too many files"}, ingest.ErrTooMany},
		{"too many records across files", filepath.Join(dir, "records"), ingest.LoadOptions{MaxRecords: 3}, []string{"b.csv:3: too many records"}, ingest.ErrTooMany},
		{"duplicate id across files", filepath.Join(dir, "dups"), ingest.LoadOptions{}, []string{`b.jsonl:1: field "id": duplicate id "x" (also at a.csv:2)`}, nil},
		{"total size", filepath.Join(dir, "total"), ingest.LoadOptions{MaxTotalBytes: 1000}, []string{"b.md: upload too large"}, ingest.ErrTooLarge},
		{"unknown type", unknown, ingest.LoadOptions{}, []string{`notes.rtf: unknown file type ".rtf"; set the format`}, nil},
		{"kind mismatch", big, ingest.LoadOptions{Kind: ingest.KindArticle}, []string{"does not hold article documents"}, nil},
		{"bad kind", big, ingest.LoadOptions{Kind: "faqs"}, []string{`unknown kind "faqs"`}, nil},
		{"bad format", big, ingest.LoadOptions{Format: "xlsx"}, []string{`unknown format "xlsx"`}, nil},
		{"format and kind disagree", big, ingest.LoadOptions{Format: ingest.FormatCSV, Kind: ingest.KindConversation}, []string{"format csv holds faq documents"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ingest.LoadPath(context.Background(), tt.path, tt.opts)
			wantInputError(t, err, tt.want...)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
	t.Run("missing path", func(t *testing.T) {
		t.Parallel()
		_, _, err := ingest.LoadPath(context.Background(), filepath.Join(dir, "nope"), ingest.LoadOptions{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error = %v, want not exist", err)
		}
	})
}

// endless is a reader that never ends, to check that limits count bytes.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestLoadReaderLimits(t *testing.T) {
	t.Parallel()
	_, _, err := ingest.LoadReader(context.Background(), endless{}, "huge.txt", ingest.LoadOptions{MaxFileBytes: 1 << 20})
	wantInputError(t, err, "huge.txt: file too large: more than 1048576 bytes, limit 1048576")
	if !errors.Is(err, ingest.ErrTooLarge) {
		t.Errorf("error %v is not ErrTooLarge", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = ingest.LoadReader(ctx, endless{}, "huge.txt", ingest.LoadOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestLoadReaderName(t *testing.T) {
	t.Parallel()
	docs, _, err := ingest.LoadReader(context.Background(), strings.NewReader("# Hi\n\ntext"), `C:\fakepath\hello.md`, ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].ExternalID != "hello.md" {
		t.Errorf("ExternalID = %q, want hello.md", docs[0].ExternalID)
	}
	_, _, err = ingest.LoadReader(context.Background(), io.LimitReader(endless{}, 10), "upload", ingest.LoadOptions{})
	wantInputError(t, err, "upload: no file extension; set the format")
}
