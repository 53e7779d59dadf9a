//go:build race

package llm_test

// raceSlowdown is how much slower the race detector makes the tokenizer
// (about 20× measured; timings under it say little).
const raceSlowdown = 20
