package ratelimit_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/ratelimit"
)

func TestBucket(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	l := ratelimit.New(ratelimit.Rate{Events: 3, Per: time.Minute}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of a full bucket refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 20*time.Second {
		t.Fatalf("empty bucket: %v, wait %v; want refused, 20s (one token per 20 s)", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(20 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a token did not come back after 20 s")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("more than one token came back")
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ratelimit.Rate{
		"30/min": {30, time.Minute}, "5/s": {5, time.Second}, "10/h": {10, time.Hour}, "20/10m": {20, 10 * time.Minute},
	} {
		if got, err := ratelimit.ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "30", "0/min", "-1/s", "5/fortnight", "x/min"} {
		if _, err := ratelimit.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

// Wait tells how long until a token without taking one.
func TestWait(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	l := ratelimit.New(ratelimit.Rate{Events: 2, Per: time.Minute}, func() time.Time { return now })
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("unknown key: wait %v, want 0", w)
	}
	l.Allow("a")
	l.Allow("a")
	for range 3 {
		if w := l.Wait("a"); w != 30*time.Second {
			t.Fatalf("empty bucket: wait %v, want 30s, every time asked", w)
		}
	}
	now = now.Add(30 * time.Second)
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("after 30 s: wait %v, want 0", w)
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("Wait took the token")
	}
}
