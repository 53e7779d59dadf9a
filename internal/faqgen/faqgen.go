// Package faqgen makes synthetic FAQ knowledge of any size for the scale
// benchmarks (ingest, classifier training): deterministic, nothing stored.
package faqgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Entry is one generated FAQ entry: a question and answer about one intent.
type Entry struct {
	ID, Question, Answer, Intent string
}

var (
	syllables = strings.Fields("ka lo mi ne ru sa to vi de pa go li mu ra se ta bo ki fa zu po le da ri wu jo")
	openers   = []string{"how do I", "can I", "why is my", "where can I find my", "what happens to my", "is it possible to change my", "when will my"}
	fillers   = strings.Fields("account order card payment delivery refund transfer limit fee app password address plan box parcel invoice")
)

// word returns the i-th made-up word (distinct for distinct i).
func word(i int) string {
	var b strings.Builder
	for {
		b.WriteString(syllables[i%len(syllables)])
		i /= len(syllables)
		if i == 0 {
			return b.String()
		}
	}
}

// Generate returns n entries spread over intents of perIntent entries each
// (n/perIntent intents, rounded up). Each intent has three topic words of
// its own; its entries phrase questions with them in different ways, so a
// classifier can learn intents and a search can find them.
func Generate(n, perIntent int, seed uint64) []Entry {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]Entry, n)
	for i := range out {
		intent := i / perIntent
		topic := []string{word(3*intent + 600), word(3*intent + 601), word(3*intent + 602)}
		rng.Shuffle(len(topic), func(a, b int) { topic[a], topic[b] = topic[b], topic[a] })
		q := fmt.Sprintf("%s %s %s %s %s?", openers[rng.IntN(len(openers))], fillers[rng.IntN(len(fillers))],
			topic[0], topic[1], word(rng.IntN(600)))
		a := fmt.Sprintf("For %s %s, open the %s page and follow the %s steps; it takes %d days.",
			topic[0], topic[2], fillers[rng.IntN(len(fillers))], word(rng.IntN(600)), 1+rng.IntN(9))
		out[i] = Entry{ID: fmt.Sprintf("gen-%d", i), Question: q, Answer: a, Intent: "intent_" + word(intent)}
	}
	return out
}

// Sizes parses a comma-separated list of entry counts ("10000,100000"),
// each at least min.
func Sizes(list string, min int) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < min {
			return nil, fmt.Errorf("%q is not a size of at least %d", s, min)
		}
		out = append(out, n)
	}
	return out, nil
}
