package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// countingStore counts key lookups.
type countingStore struct {
	*postgres.DB
	lookups atomic.Int64
}

func (s *countingStore) Authenticate(ctx context.Context, secret string) (parley.Principal, error) {
	s.lookups.Add(1)
	return s.DB.Authenticate(ctx, secret)
}

// throttleEnv is a server whose key lookups are counted, and a valid key.
func throttleEnv(t *testing.T) (*httptest.Server, *countingStore, string) {
	t.Helper()
	db := pgtest.DB(t)
	store := &countingStore{DB: db}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := api.New(store, reply.New(db, retrieval.NewLocal(), reply.Options{Language: detector, Classifiers: db, Logger: log}), api.Options{Logger: log, MaxBodyBytes: testBodyLimit, Version: "test"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	_, key, err := db.CreateKey(context.Background(), pgtest.Workspace(t).ID, "test", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return srv, store, key
}

func getWorkspace(t *testing.T, srv *httptest.Server, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/workspace", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// A client guessing keys gets 30 tries, then one every 2 s: the rest are
// 429 with Retry-After, and cost no key lookup. A slow machine may take
// seconds over the requests; each 2 s that pass earn one more try.
func TestFailedAuthIsThrottledPerAddress(t *testing.T) {
	t.Parallel()
	srv, store, key := throttleEnv(t)
	start := time.Now()
	for i := range 30 {
		if status, _ := getWorkspace(t, srv, fmt.Sprintf("prly_guess%02d-wrong", i)); status != 401 {
			t.Fatalf("wrong key %d: %d, want 401", i, status)
		}
	}
	before := store.lookups.Load()
	tried := 0
	for i := range 20 {
		status, retry := getWorkspace(t, srv, fmt.Sprintf("prly_later%02d-wrong", i))
		switch {
		case status == 401:
			tried++
		case status != 429 || (retry != "1" && retry != "2"):
			t.Fatalf("wrong key %d after 30: %d Retry-After %q, want 429 and 1-2 s", i, status, retry)
		}
	}
	if earned := int(time.Since(start) / (2 * time.Second)); tried > earned {
		t.Errorf("after 30 failures, %d of 20 more were tried in %s, want at most %d (one every 2 s)", tried, time.Since(start).Round(time.Millisecond), earned)
	}
	if n := store.lookups.Load() - before; n != int64(tried) {
		t.Errorf("20 throttled requests caused %d key lookups, want %d (only those let through)", n, tried)
	}
	time.Sleep(2100 * time.Millisecond)
	if status, _ := getWorkspace(t, srv, key); status != 200 {
		t.Fatalf("after waiting, a valid key: %d, want 200", status)
	}
	if status, _ := getWorkspace(t, srv, "prly_again-wrong"); status != 401 {
		t.Fatalf("after waiting, one more try: %d, want 401", status)
	}
	if status, _ := getWorkspace(t, srv, "prly_again2-wrong"); status != 429 {
		t.Fatalf("and the next: %d, want 429", status)
	}
}

// Guesses at one key prefix are throttled sooner: 10, then one every 6 s.
func TestFailedAuthIsThrottledPerPrefix(t *testing.T) {
	t.Parallel()
	srv, _, key := throttleEnv(t)
	prefix := key[:11]
	for i := range 10 {
		if status, _ := getWorkspace(t, srv, fmt.Sprintf("%swrong%02d", prefix, i)); status != 401 {
			t.Fatalf("wrong key %d: %d, want 401", i, status)
		}
	}
	status, retry := getWorkspace(t, srv, prefix+"wrong-again")
	if status != 429 || retry == "" {
		t.Fatalf("11th guess at one prefix: %d Retry-After %q, want 429", status, retry)
	}
	if status, _ := getWorkspace(t, srv, "prly_other-wrong"); status != 401 {
		t.Fatalf("another prefix from the same address: %d, want 401", status)
	}
}
