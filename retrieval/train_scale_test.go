package retrieval_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/faqgen"
	"github.com/parleyhq/parley/retrieval"
)

// TestTrainScale times TrainClassifier on generated FAQ questions
// (internal/faqgen, 45 an intent) embedded by the local embedder, at each
// size in PARLEY_SCALE_TRAIN (comma-separated), and reports held-out
// accuracy on 3,000 questions generated with another seed. With
// PARLEY_SCALE_FULL=1 it also trains with the full softmax (every class
// every step) to compare; that is slow with thousands of intents.
//
//	make bench-scale-train SIZES=10000,100000
func TestTrainScale(t *testing.T) {
	sizes := os.Getenv("PARLEY_SCALE_TRAIN")
	if sizes == "" {
		t.Skip("set PARLEY_SCALE_TRAIN to the sizes to train on (make bench-scale-train does)")
	}
	ctx := context.Background()
	embedder := retrieval.NewLocal()
	embed := func(entries []faqgen.Entry) []retrieval.Example {
		texts := make([]string, len(entries))
		for i, e := range entries {
			texts[i] = e.Question
		}
		vecs, err := embedder.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]retrieval.Example, len(entries))
		for i, e := range entries {
			out[i] = retrieval.Example{ID: int64(i), Group: e.Intent, Vector: vecs[i]}
		}
		return out
	}
	ns, err := faqgen.Sizes(sizes, 90)
	if err != nil {
		t.Fatalf("PARLEY_SCALE_TRAIN: %v", err)
	}
	for _, n := range ns {
		train := embed(faqgen.Generate(n, 45, 1))
		all := faqgen.Generate(n, 45, 2)
		var held []faqgen.Entry
		for i := 0; i < len(all); i += max(1, len(all)/3000) {
			held = append(held, all[i])
		}
		test := embed(held)
		modes := []retrieval.TrainOptions{{}}
		if os.Getenv("PARLEY_SCALE_FULL") == "1" {
			modes = append(modes, retrieval.TrainOptions{SampledClasses: n})
		}
		for _, opts := range modes {
			start, cpu0 := time.Now(), cpuTime()
			c, err := retrieval.TrainClassifier(train, opts)
			if err != nil {
				t.Fatal(err)
			}
			took, cpu := time.Since(start), cpuTime()-cpu0
			right := 0
			for _, e := range test {
				if c.Classes[argmax(c.Probabilities(e.Vector))] == e.Group {
					right++
				}
			}
			mode := "sampled softmax (default)"
			if opts.SampledClasses != 0 {
				mode = "full softmax"
			}
			t.Logf("%d examples, %d intents, %s: trained in %s wall, %s CPU (one goroutine), held-out accuracy %.3f (%d questions), load average %s",
				n, len(c.Classes), mode, took.Round(10*time.Millisecond), cpu.Round(10*time.Millisecond), float64(right)/float64(len(test)), len(test), loadAvg())
		}
	}
}

// cpuTime is the CPU time this process has used: on a shared machine the
// wall time of a single-goroutine training mostly measures the others.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
