package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// LoadPath reads a file, a directory tree or a .zip archive. In a tree or
// an archive, files are read in name order; hidden files (a name starting
// with ".") are left out, and files of unknown type are skipped and listed
// in the report. Problems with the content are *InputError.
func LoadPath(ctx context.Context, p string, opts LoadOptions) ([]Document, LoadReport, error) {
	if err := opts.validate(); err != nil {
		return nil, LoadReport{}, err
	}
	opts = opts.withDefaults()
	info, err := os.Stat(p)
	if err != nil {
		return nil, LoadReport{}, fmt.Errorf("load %s: %w", p, err)
	}
	c := newCollector(opts)
	switch {
	case info.IsDir():
		err = loadTree(ctx, p, opts, c)
	case strings.EqualFold(filepath.Ext(p), ".zip"):
		err = loadZipFile(ctx, p, opts, c)
	default:
		err = loadOneFile(ctx, p, opts, c)
	}
	if err != nil {
		return nil, LoadReport{}, err
	}
	return c.docs, c.report, nil
}

// LoadReader reads one uploaded file, or a .zip archive, from r. name is
// the file's name as uploaded; its extension gives the format unless
// opts.Format is set, and an article's ExternalID is its base name.
func LoadReader(ctx context.Context, r io.Reader, name string, opts LoadOptions) ([]Document, LoadReport, error) {
	if err := opts.validate(); err != nil {
		return nil, LoadReport{}, err
	}
	opts = opts.withDefaults()
	name = uploadName(name)
	c := newCollector(opts)
	var err error
	if strings.EqualFold(path.Ext(name), ".zip") && opts.Format == "" {
		err = loadZipReader(ctx, r, name, opts, c)
	} else {
		err = singleFile(loadReaderFile(ctx, r, name, opts, c), name)
	}
	if err != nil {
		return nil, LoadReport{}, err
	}
	return c.docs, c.report, nil
}

// uploadName keeps the base name of what a browser or client sent
// ("C:\fakepath\faq.csv" → "faq.csv").
func uploadName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return "upload"
	}
	return name
}

// loadReaderFile reads one uploaded file, not an archive, from r.
func loadReaderFile(ctx context.Context, r io.Reader, name string, opts LoadOptions, c *collector) error {
	format, err := resolveFormat(name, opts)
	if err != nil {
		return err
	}
	return loadStream(ctx, r, name, format, -1, opts, newUploadReader(opts), c)
}

// loadOneFile reads the file at path p, asked for on its own.
func loadOneFile(ctx context.Context, p string, opts LoadOptions, c *collector) error {
	name := filepath.Base(p)
	return singleFile(loadFile(ctx, p, name, opts, newUploadReader(opts), c), name)
}

// loadFile reads the file at path p, called name in messages (and an
// article's ExternalID). A file of unknown type is skipped (*errSkip)
// without being opened.
func loadFile(ctx context.Context, p, name string, opts LoadOptions, u *uploadReader, c *collector) error {
	format, err := resolveFormat(name, opts)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	defer f.Close()
	size := int64(-1)
	if info, err := f.Stat(); err == nil {
		size = info.Size()
	}
	return loadStream(ctx, f, name, format, size, opts, u, c)
}

// singleFile turns a skip into an error: when a single file was asked for,
// not reading it is a failure.
func singleFile(err error, name string) error {
	var skip *errSkip
	if errors.As(err, &skip) {
		return inputErrorf(name, "", "%s; set the format (%s)", skip.reason, formatNames)
	}
	return err
}

// loadStream reads one file of the given name and format (as resolveFormat
// gave it; size is its size if known, else -1) within the limits of u and
// loads it.
func loadStream(ctx context.Context, r io.Reader, name string, format Format, size int64, opts LoadOptions, u *uploadReader, c *collector) error {
	data, err := u.read(ctx, r, name, size)
	if err != nil {
		return err
	}
	if opts.Format == "" && opts.Kind == "" && (format == FormatJSON || format == FormatJSONL) {
		format = sniffJSONFormat(data, format) // FAQ entries or conversations, by content
	}
	return loadData(data, name, format, opts, c)
}

// loadData parses one file's content.
func loadData(data []byte, name string, format Format, opts LoadOptions, c *collector) error {
	c.report.Files++
	switch format {
	case FormatCSV:
		return loadFAQCSV(data, name, opts, c)
	case FormatJSON, FormatJSONL:
		return loadFAQJSON(data, name, opts, c)
	case FormatConversations:
		return loadConversations(data, name, opts, c)
	case FormatMarkdown, FormatHTML, FormatText:
		d, err := loadArticle(data, name, format)
		if err != nil {
			return err
		}
		if strings.TrimSpace(d.Body) == "" {
			c.report.skip(name, "no text")
			return nil
		}
		return c.add(d)
	case FormatPDF:
		d, skipped, err := loadPDF(data, name)
		if err != nil {
			return err
		}
		c.report.Skipped = append(c.report.Skipped, skipped...)
		if d.Body == "" {
			c.report.skip(name, "no text layer on any page (a scanned document?); run OCR on it to include it")
			return nil
		}
		return c.add(d)
	}
	return fmt.Errorf("load %s: unhandled format %q", name, format)
}

// formatByExt maps file extensions to formats.
var formatByExt = map[string]Format{
	".csv":      FormatCSV,
	".json":     FormatJSON,
	".jsonl":    FormatJSONL,
	".ndjson":   FormatJSONL,
	".md":       FormatMarkdown,
	".markdown": FormatMarkdown,
	".html":     FormatHTML,
	".htm":      FormatHTML,
	".txt":      FormatText,
	".pdf":      FormatPDF,
}

// formatNames lists the formats for messages.
const formatNames = "csv, json, jsonl, md, html, txt, pdf or conversations"

// formatKind is the kind of document a format holds.
func formatKind(f Format) Kind {
	switch f {
	case FormatCSV, FormatJSON, FormatJSONL:
		return KindFAQ
	case FormatConversations:
		return KindConversation
	default:
		return KindArticle
	}
}

// errSkip marks a file that a tree or archive leaves out.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return e.reason }

// resolveFormat picks the format of file name from opts or its extension.
// It returns *errSkip for a file of unknown type or of another kind than
// opts.Kind. (Without a kind, a JSON file's content may still make it
// conversations: see sniffJSONFormat.)
func resolveFormat(name string, opts LoadOptions) (Format, error) {
	if opts.Format != "" {
		return opts.Format, nil
	}
	ext := strings.ToLower(path.Ext(name))
	format, ok := formatByExt[ext]
	if !ok {
		if ext == "" {
			return "", &errSkip{"no file extension; set the format"}
		}
		return "", &errSkip{fmt.Sprintf("unknown file type %q", ext)}
	}
	switch {
	case opts.Kind == KindConversation && (format == FormatJSON || format == FormatJSONL):
		return FormatConversations, nil
	case opts.Kind != "" && formatKind(format) != opts.Kind:
		return "", &errSkip{fmt.Sprintf("a %s file does not hold %s documents", ext, opts.Kind)}
	}
	return format, nil
}

// sniffJSONFormat tells conversations from FAQ entries in a JSON or JSON
// Lines file whose kind was not given: conversations have "messages". Only
// the first object is decoded.
func sniffJSONFormat(data []byte, format Format) Format {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\xEF\xBB\xBF"), []byte("[")) {
		if _, err := dec.Token(); err != nil {
			return format
		}
	}
	var first map[string]json.RawMessage
	if err := dec.Decode(&first); err != nil {
		return format // a broken file is reported by the loader
	}
	if _, ok := lowerKeys(first)["messages"]; ok {
		return FormatConversations
	}
	return format
}
