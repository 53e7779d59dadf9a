package ingest_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
)

type zipEntry struct {
	name    string
	content string
	mode    fs.FileMode // 0 = regular file
}

func zipOf(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBomb returns a zip holding one file of size zero bytes (a multiple
// of 1 MiB), and the entry's deflated bytes and CRC for forging headers.
// The deflate stream is built without compressing size bytes: one 1 MiB
// block of zeros is compressed and flushed (not closed), and copies of it
// are valid consecutive deflate blocks; a final empty block ends the
// stream. 1 GiB of zeros takes about 1 MiB.
func zipBomb(t testing.TB, name string, size int64) (archive, raw []byte, crc uint32) {
	t.Helper()
	const block = 1 << 20
	zeros := make([]byte, block)
	var one bytes.Buffer
	fw, err := flate.NewWriter(&one, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	h := crc32.NewIEEE()
	for n := int64(0); n < size; n += block {
		stream.Write(one.Bytes())
		h.Write(zeros)
	}
	stream.Write([]byte{0x03, 0x00}) // final empty block with fixed Huffman codes
	raw = stream.Bytes()

	// Check that the stream is what it claims to be, for the first 8 MiB.
	n, err := io.Copy(io.Discard, io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 8<<20))
	if err != nil || n != 8<<20 {
		t.Fatalf("bomb inflates to %d bytes (%v), want 8 MiB", n, err)
	}
	return forgedZip(t, name, raw, h.Sum32(), uint64(size)), raw, h.Sum32()
}

// forgedZip stores raw deflated data under a header that claims size bytes.
func forgedZip(t testing.TB, name string, raw []byte, crc uint32, size uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(raw)), UncompressedSize64: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func loadZip(t testing.TB, data []byte, opts ingest.LoadOptions) ([]ingest.Document, ingest.LoadReport, error) {
	t.Helper()
	return ingest.LoadReader(context.Background(), bytes.NewReader(data), "kb.zip", opts)
}

func TestLoadZip(t *testing.T) {
	t.Parallel()
	data := zipOf(t,
		zipEntry{name: "docs/", mode: fs.ModeDir | 0o755},
		zipEntry{name: "docs/b.md", content: "# B\n\nbee"},
		zipEntry{name: "./docs/a.md", content: "# A\n\nay"},
		zipEntry{name: "faq.csv", content: "question,answer\nq?,a\n"},
		zipEntry{name: "__MACOSX/docs/._a.md", content: "junk"},
		zipEntry{name: "docs/.DS_Store", content: "junk"},
		zipEntry{name: "inner.zip", content: "PK"},
		zipEntry{name: "logo.png", content: "png"},
	)
	docs, report, err := loadZip(t, data, ingest.LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ExternalID)
	}
	if got := strings.Join(ids, ","); !strings.HasPrefix(got, "docs/a.md,docs/b.md,faq:") {
		t.Errorf("ExternalIDs = %s, want docs/a.md, docs/b.md and a FAQ entry", got)
	}
	if len(report.Skipped) != 2 || report.Skipped[0].Origin != "inner.zip" || report.Skipped[1].Origin != "logo.png" {
		t.Errorf("skipped = %+v, want inner.zip and logo.png", report.Skipped)
	}

	// The same archive from disk.
	p := filepath.Join(t.TempDir(), "kb.zip")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fromDisk, _, err := ingest.LoadPath(context.Background(), p, ingest.LoadOptions{})
	if err != nil || len(fromDisk) != len(docs) {
		t.Errorf("LoadPath(zip) = %d docs, %v; want %d", len(fromDisk), err, len(docs))
	}
}

func TestLoadZipBomb(t *testing.T) {
	t.Parallel()
	const gib = 1 << 30
	bomb, raw, crc := zipBomb(t, "bomb.txt", gib)
	if len(bomb) > 4<<20 {
		t.Fatalf("bomb is %d bytes compressed; the test wants it small", len(bomb))
	}
	opts := ingest.LoadOptions{MaxFileBytes: 1 << 20, MaxTotalBytes: 4 << 20}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"honest header", bomb, "bomb.txt: file too large: 1073741824 bytes, limit 1048576"},
		// Headers that lie: only the bytes actually decompressed count.
		// archive/zip stops a read past the claimed size...
		{"header claims 10 bytes", forgedZip(t, "bomb.txt", raw, crc, 10), "bomb.txt: damaged archive entry"},
		{"header claims just under the limit", forgedZip(t, "bomb.txt", raw, crc, 1<<20-1), "bomb.txt: damaged archive entry"},
		{"header claims zero", forgedZip(t, "bomb.txt", raw, crc, 0), "bomb.txt: damaged archive entry"},
		// ...and the byte count stops the rest.
		{"header claims an absurd size", forgedZip(t, "bomb.txt", raw, crc, 1<<63), "bomb.txt: file too large: more than 1048576 bytes, limit 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := loadZip(t, tt.data, opts)
			wantInputError(t, err, tt.want)
		})
	}
}

func TestLoadZipLimits(t *testing.T) {
	t.Parallel()
	chunk := strings.Repeat("x", 400<<10)
	three := zipOf(t,
		zipEntry{name: "a.txt", content: chunk},
		zipEntry{name: "b.txt", content: chunk},
		zipEntry{name: "c.txt", content: chunk},
	)
	tests := []struct {
		name string
		data []byte
		opts ingest.LoadOptions
		want string
		is   error
	}{
		{"total uncompressed size", three, ingest.LoadOptions{MaxTotalBytes: 1 << 20}, "c.txt: upload too large", ingest.ErrTooLarge},
		{"archive size", three, ingest.LoadOptions{MaxTotalBytes: 1 << 10}, "kb.zip: archive too large", ingest.ErrTooLarge},
		{"too many files", three, ingest.LoadOptions{MaxFiles: 2}, "kb.zip: too many files: the archive lists 3", ingest.ErrTooMany},
		{"too many records", zipOf(t, zipEntry{name: "a.csv", content: "question,answer\na,1\nb,2\nc,3\n"}), ingest.LoadOptions{MaxRecords: 2}, "a.csv:4: too many records", ingest.ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := loadZip(t, tt.data, tt.opts)
			wantInputError(t, err, tt.want)
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestLoadZipUnsafe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		entry zipEntry
		want  string
	}{
		{"parent", zipEntry{name: "../evil.md", content: "x"}, `unsafe path "../evil.md"`},
		{"parent inside", zipEntry{name: "docs/../../evil.md", content: "x"}, "unsafe path"},
		{"absolute", zipEntry{name: "/etc/evil.md", content: "x"}, "unsafe path"},
		{"backslashes", zipEntry{name: `..\evil.md`, content: "x"}, "unsafe path"},
		{"drive", zipEntry{name: "C:/evil.md", content: "x"}, "unsafe path"},
		{"symlink", zipEntry{name: "docs/link.md", content: "/etc/passwd", mode: fs.ModeSymlink | 0o777}, `symbolic link, "docs/link.md"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := zipOf(t, zipEntry{name: "ok.md", content: "fine"}, tt.entry)
			_, _, err := loadZip(t, data, ingest.LoadOptions{})
			wantInputError(t, err, "kb.zip: ", tt.want)
		})
	}
}

func TestLoadZipDamaged(t *testing.T) {
	t.Parallel()
	_, _, err := loadZip(t, []byte("PK\x03\x04 definitely not a zip"), ingest.LoadOptions{})
	wantInputError(t, err, "kb.zip: not a readable zip archive")

	data := zipOf(t, zipEntry{name: "a.md", content: strings.Repeat("hello ", 1000)})
	i := bytes.Index(data, []byte("a.md")) + len("a.md") + 20 // inside the compressed data
	data[i] ^= 0xFF
	_, _, err = loadZip(t, data, ingest.LoadOptions{})
	wantInputError(t, err, "a.md")
}
