package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
)

// Classify turns the database errors a caller can act on into domain
// errors, once, at the store's edge: input PostgreSQL refuses to store (a
// NUL character, bad encoding, a value out of range: SQLSTATE class 22, or
// a value over its size limit: 54000) becomes EInvalid; a lost or refused
// connection, an administrator's or crash shutdown, or a server still
// starting or recovering becomes EUnavailable. Anything else, including an
// ended context and errors that already carry a domain code, is returned
// unchanged.
func Classify(err error) error {
	if err == nil || parley.ErrorCode(err) != parley.EInternal ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return classifyState(pgErr, err)
	}
	if connectionLost(err) {
		return parley.Errorf(parley.EUnavailable, "the database is unavailable; try again shortly")
	}
	return err
}

func classifyState(pgErr *pgconn.PgError, err error) error {
	switch code := pgErr.Code; {
	case code == "22021" || code == "22P05":
		// Invalid byte sequence; unsupported Unicode escape in JSON: in
		// practice a NUL, which text cannot hold.
		return parley.Errorf(parley.EInvalid, "text cannot contain a NUL character (\\u0000) or invalid UTF-8")
	case strings.HasPrefix(code, "22"), code == "54000":
		return parley.Errorf(parley.EInvalid, "a value cannot be stored: %s", pgErr.Message)
	case strings.HasPrefix(code, "08"), // connection exception
		code == "57P01", code == "57P02", code == "57P03", // admin or crash shutdown, cannot connect now
		code == "53300", // too many connections
		code == "25006": // read-only transaction: a standby, during a failover
		return parley.Errorf(parley.EUnavailable, "the database is unavailable; try again shortly")
	}
	return err
}

// connectionLost reports whether err is a failure to reach the server or a
// connection that broke under a query. pgx passes a broken read on as a
// bare io.ErrUnexpectedEOF, so network errors are recognised by kind; the
// other clients' (models', embedders') are classified where they happen,
// before they reach here.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var opErr *net.OpError
	return errors.As(err, &connectErr) || errors.Is(err, pgconn.ErrConnClosed) || errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
