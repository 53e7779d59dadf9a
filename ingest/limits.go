package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// readCapped reads all of r unless more than limit bytes arrive (over is
// then true). It counts the bytes actually read, so a wrong size in an
// archive header or a file that grows cannot get past it.
func readCapped(ctx context.Context, r io.Reader, limit int64) (data []byte, over bool, err error) {
	data, err = io.ReadAll(io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, false, ctxErr
		}
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return nil, true, nil
	}
	return data, false, nil
}

// ctxReader stops a long read when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// uploadReader reads the files of one upload within the per-file limit and
// the limit on the bytes of all files together.
type uploadReader struct {
	perFile int64
	total   int64
	left    int64 // of total
}

func newUploadReader(opts LoadOptions) *uploadReader {
	return &uploadReader{perFile: opts.MaxFileBytes, total: opts.MaxTotalBytes, left: opts.MaxTotalBytes}
}

// read reads one file. size is the size it claims (-1 if unknown): a claim
// over a limit fails early with the real number, but only the bytes read
// count.
func (u *uploadReader) read(ctx context.Context, r io.Reader, origin string, size int64) ([]byte, error) {
	switch {
	case size > u.perFile:
		return nil, fileTooLarge(origin, fmt.Sprintf("%d bytes", size), u.perFile)
	case size > u.left:
		return nil, u.uploadTooLarge(origin)
	}
	limit := min(u.perFile, u.left)
	data, over, err := readCapped(ctx, r, limit)
	var inputErr *InputError
	switch {
	case errors.As(err, &inputErr):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", origin, err)
	case over && limit == u.perFile:
		return nil, fileTooLarge(origin, fmt.Sprintf("more than %d bytes", u.perFile), u.perFile)
	case over:
		return nil, u.uploadTooLarge(origin)
	}
	u.left -= int64(len(data))
	return data, nil
}

func fileTooLarge(origin, size string, limit int64) error {
	return &InputError{Origin: origin, Msg: fmt.Sprintf("file too large: %s, limit %d", size, limit), Err: ErrTooLarge}
}

func (u *uploadReader) uploadTooLarge(origin string) error {
	return &InputError{
		Origin: origin,
		Msg:    fmt.Sprintf("upload too large: the files hold more than %d bytes in all (uncompressed), limit %d", u.total, u.total),
		Err:    ErrTooLarge,
	}
}
