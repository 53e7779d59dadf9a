package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	ctx := context.Background()

	_, err := db.Pool().Exec(ctx, `SELECT $1::text`, "a\x00b")
	if got := parley.ErrorCode(postgres.Classify(fmt.Errorf("save message: %w", err))); got != parley.EInvalid {
		t.Errorf("NUL in text (%v): code %s, want invalid", err, got)
	}
	_, err = db.Pool().Exec(ctx, `SELECT $1::jsonb`, `{"a": "\u0000"}`)
	if got := parley.ErrorCode(postgres.Classify(err)); got != parley.EInvalid {
		t.Errorf("NUL in jsonb (%v): code %s, want invalid", err, got)
	}

	// A port nothing listens on: the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = postgres.Open(ctx, "postgres://parley@"+addr+"/parley?connect_timeout=2", 1)
	if got := parley.ErrorCode(postgres.Classify(err)); got != parley.EUnavailable {
		t.Errorf("refused connection (%v): code %s, want unavailable", err, got)
	}

	for _, err := range []error{context.Canceled, fmt.Errorf("query: %w", context.DeadlineExceeded), errors.New("bug"), parley.Errorf(parley.ENotFound, "x")} {
		if got := postgres.Classify(err); got != err {
			t.Errorf("Classify(%v) = %v, want it unchanged", err, got)
		}
	}
	if postgres.Classify(nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}
