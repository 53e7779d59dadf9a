//go:build faults

package llm_test

import (
	"fmt"
	"testing"
	"time"
)

// TestCountPerByteToOneMegabyte prints the time per byte of Count on
// adversarial text from 1 KB to 1 MB (make test-faults) and checks that it
// stays flat: each size is counted over the same 1 MB, so garbage
// collection costs the same.
func TestCountPerByteToOneMegabyte(t *testing.T) {
	tok := newTokenizer(t)
	sizes := []int{1 << 10, 16 << 10, 256 << 10, 1 << 20}
	texts := make([]map[string]string, len(sizes))
	for i, n := range sizes {
		texts[i] = adversarial(n)
	}
	for name := range texts[0] {
		line := fmt.Sprintf("%-10s", name)
		var perByte []time.Duration
		for i, n := range sizes {
			reps := (1 << 20) / n
			best := time.Duration(1 << 62)
			for range 2 {
				start := time.Now()
				for range reps {
					tok.Count(texts[i][name])
				}
				best = min(best, time.Since(start))
			}
			pb := best / time.Duration(reps*n)
			perByte = append(perByte, pb)
			line += fmt.Sprintf("  %7s: %5d ns/byte", sizeName(n), pb.Nanoseconds())
		}
		t.Log(line)
		if perByte[len(perByte)-1] > 4*perByte[0] {
			t.Errorf("%s: %v per byte at 1 MB, %v at 1 KB: not linear", name, perByte[len(perByte)-1], perByte[0])
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", n>>10)
}
