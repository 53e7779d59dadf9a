package web

import "testing"

func TestNiceTop(t *testing.T) {
	for v, want := range map[int64]int64{0: 4, 1: 4, 3: 4, 4: 4, 5: 8, 9: 20, 17: 20, 21: 40, 399: 400, 401: 800} {
		if got := niceTop(v); got != want {
			t.Errorf("niceTop(%d) = %d, want %d", v, got, want)
		}
	}
}
