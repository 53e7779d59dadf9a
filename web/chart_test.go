package web

import (
	"strings"
	"testing"
	"time"
)

func TestNiceTop(t *testing.T) {
	for v, want := range map[int64]int64{0: 4, 1: 4, 3: 4, 4: 4, 5: 8, 9: 20, 17: 20, 21: 40, 399: 400, 401: 800} {
		if got := niceTop(v); got != want {
			t.Errorf("niceTop(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestLineChart(t *testing.T) {
	p := ConsolePage{msgs: map[string]string{"chart.time_format": "01-02 15:04", "p": "Precision"}}
	day := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	v := func(x float64) *float64 { return &x }
	got := string(p.LineChart(LineChart{ID: "c", Title: "t", Points: []time.Time{day, day.Add(time.Hour), day.Add(2 * time.Hour)},
		Lines: []Line{{Label: "p", Class: "precision", Values: []*float64{v(0.5), nil, v(1)}}}}))
	// A gap splits the line: two lone points draw no polyline, but both have their marks.
	if strings.Contains(got, "<polyline") || strings.Count(got, "<circle") != 2 {
		t.Errorf("a line broken by a gap: %s", got)
	}
	for _, want := range []string{"12-01 09:30 Precision: 50.0%", "<td class=\"num\">–</td>", "<td class=\"num\">100.0%</td>", ">100%</text>"} {
		if !strings.Contains(got, want) {
			t.Errorf("chart lacks %q: %s", want, got)
		}
	}
	got = string(p.LineChart(LineChart{ID: "c", Points: []time.Time{day, day.Add(time.Hour)},
		Lines: []Line{{Label: "p", Class: "precision", Values: []*float64{v(0.25), v(0.75)}}}}))
	if strings.Count(got, "<polyline") != 1 {
		t.Errorf("two points make one line: %s", got)
	}
}
