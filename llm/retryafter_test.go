package llm_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/llm"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"007", 7 * time.Second, true},
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", math.MaxInt64, true},
		{"99999999999999999999999", math.MaxInt64, true},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},  // IMF-fixdate
		{"Friday, 02-Jan-26 03:04:35 GMT", 30 * time.Second, true}, // obsolete RFC 850
		{"Fri Jan  2 03:04:35 2026", 30 * time.Second, true},       // obsolete asctime
		{"2026-01-02T03:04:35Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := llm.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
