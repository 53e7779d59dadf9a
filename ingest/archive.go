package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// loadZipFile reads a .zip archive on disk.
func loadZipFile(ctx context.Context, p string, opts LoadOptions, c *collector) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	return loadZip(ctx, f, info.Size(), filepath.Base(p), opts, c)
}

// loadZipReader reads an uploaded .zip archive into memory (zip needs
// random access); the archive itself may be at most MaxTotalBytes.
func loadZipReader(ctx context.Context, r io.Reader, name string, opts LoadOptions, c *collector) error {
	limit := opts.MaxTotalBytes
	data, over, err := readCapped(ctx, r, limit)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if over {
		return &InputError{Origin: name, Msg: fmt.Sprintf("archive too large: more than %d bytes, limit %d", limit, limit), Err: ErrTooLarge}
	}
	return loadZip(ctx, bytes.NewReader(data), int64(len(data)), name, opts, c)
}

// loadZip reads the files of a zip archive in name order. An entry's
// origin (and an article's ExternalID) is its path inside the archive.
//
// Defences: the entry count is checked before archive/zip reads the
// directory; a path that is absolute or climbs out with ".." and a symbolic
// link fail the whole upload; every entry is read through the per-file and
// total byte limits, which count the bytes actually decompressed, so a zip
// bomb stops at the limit whatever its headers claim.
func loadZip(ctx context.Context, ra io.ReaderAt, size int64, name string, opts LoadOptions, c *collector) error {
	if n, ok := zipEntryCount(ra, size); ok && n > uint64(opts.MaxFiles) {
		return &InputError{Origin: name, Msg: fmt.Sprintf("too many files: the archive lists %d, the limit is %d per upload", n, opts.MaxFiles), Err: ErrTooMany}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure paths are checked below
		return inputErrorf(name, "", "not a readable zip archive: %v", err)
	}
	entries := slices.Clone(zr.File)
	slices.SortStableFunc(entries, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })

	u := newUploadReader(opts)
	files := 0
	for _, f := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		origin, err := zipEntryPath(f.Name)
		if err != nil {
			return inputErrorf(name, "", "%v", err)
		}
		mode := f.Mode()
		switch {
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			continue
		case mode&fs.ModeSymlink != 0:
			return inputErrorf(name, "", "the archive holds a symbolic link, %q; links are not allowed", f.Name)
		case hiddenPath(origin):
			continue
		case !mode.IsRegular():
			c.report.skip(origin, "not a regular file")
			continue
		}
		files++
		if files > opts.MaxFiles {
			return tooManyFiles(origin, opts.MaxFiles)
		}
		if strings.EqualFold(path.Ext(origin), ".zip") {
			c.report.skip(origin, "archives inside an archive are not read")
			continue
		}
		if err := skipped(loadZipEntry(ctx, f, origin, opts, u, c), origin, c); err != nil {
			return err
		}
	}
	return nil
}

func loadZipEntry(ctx context.Context, f *zip.File, origin string, opts LoadOptions, u *uploadReader, c *collector) error {
	format, err := resolveFormat(origin, opts)
	if err != nil {
		return err // don't decompress what will be skipped
	}
	rc, err := f.Open()
	if err != nil {
		return inputErrorf(origin, "", "cannot read this archive entry: %v", err)
	}
	defer rc.Close()
	claimed := int64(-1)
	if f.UncompressedSize64 <= 1<<62 {
		claimed = int64(f.UncompressedSize64)
	}
	return loadStream(ctx, zipEntryReader{rc, origin}, origin, format, claimed, opts, u, c)
}

// zipEntryReader reports a damaged entry (bad checksum, bad compressed
// data, more data than its header says) as a problem with the upload.
type zipEntryReader struct {
	r      io.Reader
	origin string
}

func (z zipEntryReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = inputErrorf(z.origin, "", "damaged archive entry: %v", err)
	}
	return n, err
}

// zipEntryPath checks an entry name and returns it cleaned. Names that are
// absolute, use "\" or climb out of the archive with ".." are refused.
func zipEntryPath(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	unsafe := n == "" || strings.Contains(n, `\`) || strings.HasPrefix(n, "/") ||
		(len(n) >= 2 && n[1] == ':') // C:
	for elem := range strings.SplitSeq(n, "/") {
		if elem == ".." {
			unsafe = true
		}
	}
	if unsafe {
		return "", fmt.Errorf("unsafe path %q in the archive: names must be relative and stay inside it", name)
	}
	return path.Clean(n), nil
}

// hiddenPath is true when any element of p is hidden.
func hiddenPath(p string) bool {
	for elem := range strings.SplitSeq(p, "/") {
		if hiddenName(elem) {
			return true
		}
	}
	return false
}

// zipEntryCount reads the number of entries from the archive's end record
// (and its zip64 extension), so that an archive listing millions of entries
// is refused before archive/zip builds a header for each.
func zipEntryCount(r io.ReaderAt, size int64) (uint64, bool) {
	const (
		endLen        = 22
		endSig        = 0x06054b50
		locatorLen    = 20
		locatorSig    = 0x07064b50
		end64Sig      = 0x06064b50
		maxCommentLen = 0xFFFF
	)
	n := min(size, endLen+maxCommentLen)
	if n < endLen {
		return 0, false
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, false
	}
	for i := len(buf) - endLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != endSig {
			continue
		}
		count := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
		if count != 0xFFFF {
			return count, true
		}
		// zip64: the locator sits right before the end record.
		locAt := size - n + int64(i) - locatorLen
		if locAt < 0 {
			return 0, false
		}
		loc := make([]byte, locatorLen)
		if _, err := r.ReadAt(loc, locAt); err != nil || binary.LittleEndian.Uint32(loc) != locatorSig {
			return 0, false
		}
		end64At := int64(binary.LittleEndian.Uint64(loc[8:]))
		end64 := make([]byte, 40)
		if end64At < 0 || end64At > size-40 {
			return 0, false
		}
		if _, err := r.ReadAt(end64, end64At); err != nil || binary.LittleEndian.Uint32(end64) != end64Sig {
			return 0, false
		}
		return binary.LittleEndian.Uint64(end64[32:]), true
	}
	return 0, false
}
