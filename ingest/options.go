package ingest

import "fmt"

// Format is the format of an input file.
type Format string

// The formats LoadPath and LoadReader read.
const (
	FormatCSV           Format = "csv"           // FAQ spreadsheet
	FormatJSON          Format = "json"          // FAQ entries as a JSON array
	FormatJSONL         Format = "jsonl"         // FAQ entries, one JSON object a line
	FormatMarkdown      Format = "md"            // article
	FormatHTML          Format = "html"          // article
	FormatText          Format = "txt"           // article
	FormatPDF           Format = "pdf"           // article, one section a page
	FormatConversations Format = "conversations" // resolved conversations, JSONL (or a JSON array)
)

// Default limits, used when the LoadOptions field is zero or negative.
const (
	DefaultMaxFileBytes  = 64 << 20  // one file, as read (uncompressed)
	DefaultMaxTotalBytes = 200 << 20 // all files of one upload, uncompressed
	DefaultMaxFiles      = 10_000    // files in one directory tree or archive
	DefaultMaxRecords    = 100_000   // documents in one upload
)

// LoadOptions control how an upload is read. The zero value is safe: PII is
// masked and the default limits apply.
type LoadOptions struct {
	// Kind of every document, or "" to infer it from each file: .csv is
	// FAQ, .json and .jsonl are FAQ unless the first object has "messages"
	// (conversations), .md, .markdown, .html, .htm, .txt and .pdf are
	// articles.
	// In a directory or archive, files of another kind are skipped.
	Kind Kind
	// Format of every file, or "" to go by file extension.
	Format Format
	// Columns maps a field name (question, answer, id, intent, tags,
	// language, title, url) to the CSV column or JSON key that holds it,
	// e.g. {"question": "text", "intent": "category"}. Names match
	// case-insensitively.
	Columns map[string]string
	// KeepPII turns off masking of e-mail addresses, phone, card and IBAN
	// numbers in conversations. Masking is on by default.
	KeepPII bool

	MaxFileBytes  int64 // per file; 0 = DefaultMaxFileBytes
	MaxTotalBytes int64 // per upload (uncompressed); 0 = DefaultMaxTotalBytes
	MaxFiles      int   // per directory tree or archive; 0 = DefaultMaxFiles
	MaxRecords    int   // documents per upload; 0 = DefaultMaxRecords
}

// withDefaults returns o with the default limits in place of the zero or
// negative ones. LoadPath and LoadReader apply it once, after validate;
// the loaders read the limits from the fields.
func (o LoadOptions) withDefaults() LoadOptions {
	o.MaxFileBytes = positiveOr(o.MaxFileBytes, DefaultMaxFileBytes)
	o.MaxTotalBytes = positiveOr(o.MaxTotalBytes, DefaultMaxTotalBytes)
	o.MaxFiles = positiveOr(o.MaxFiles, DefaultMaxFiles)
	o.MaxRecords = positiveOr(o.MaxRecords, DefaultMaxRecords)
	return o
}

func positiveOr[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// validate checks the parts of the options a user typed.
func (o LoadOptions) validate() error {
	switch o.Kind {
	case "", KindFAQ, KindArticle, KindConversation:
	default:
		return inputErrorf("", "kind", "unknown kind %q (want faq, article or conversation)", o.Kind)
	}
	switch o.Format {
	case "", FormatCSV, FormatJSON, FormatJSONL, FormatMarkdown, FormatHTML, FormatText, FormatPDF, FormatConversations:
	default:
		return inputErrorf("", "format", "unknown format %q (want %s)", o.Format, formatNames)
	}
	if o.Format != "" && o.Kind != "" && o.Kind != formatKind(o.Format) {
		return inputErrorf("", "format", "format %s holds %s documents, not %s", o.Format, formatKind(o.Format), o.Kind)
	}
	return validateColumns(o.Columns)
}

// LoadReport says what an upload held beyond the documents returned.
type LoadReport struct {
	Files     int       // files read
	Documents int       // documents returned
	Skipped   []Skipped // files and records left out, with the reason
}

// Skipped is a file or record that was left out of an upload on purpose.
type Skipped struct {
	Origin string // "convs.jsonl:3", "images/logo.png"
	Reason string
}

func (r *LoadReport) skip(origin, format string, args ...any) {
	r.Skipped = append(r.Skipped, Skipped{Origin: origin, Reason: fmt.Sprintf(format, args...)})
}
