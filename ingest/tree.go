package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// loadTree reads every file under root, in name order. Hidden files and
// folders are left out; symbolic links are not followed; archives inside
// the tree and files of unknown type are skipped and reported. A file's
// origin (and an article's ExternalID) is its path relative to root, with
// "/" separators.
func loadTree(ctx context.Context, root string, opts LoadOptions, c *collector) error {
	u := newUploadReader(opts)
	files := 0
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if hiddenName(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			c.report.skip(rel, "symbolic link, not followed")
			return nil
		case !d.Type().IsRegular():
			c.report.skip(rel, "not a regular file")
			return nil
		}
		files++
		if files > opts.MaxFiles {
			return tooManyFiles(rel, opts.MaxFiles)
		}
		if strings.EqualFold(path.Ext(rel), ".zip") {
			c.report.skip(rel, "archives inside a folder are not read; unpack it or load it on its own")
			return nil
		}
		return skipped(loadFile(ctx, p, rel, opts, u, c), rel, c)
	})
}

// skipped reports a file left out of a tree or archive and carries on.
func skipped(err error, origin string, c *collector) error {
	var skip *errSkip
	if errors.As(err, &skip) {
		c.report.skip(origin, "%s", skip.reason)
		return nil
	}
	return err
}

// hiddenName is true for ".git", ".DS_Store" and the "__MACOSX" folder
// that macOS adds to archives.
func hiddenName(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__MACOSX"
}

func tooManyFiles(origin string, limit int) error {
	return &InputError{Origin: origin, Msg: fmt.Sprintf("too many files: the limit is %d per upload", limit), Err: ErrTooMany}
}
