//go:build !race

package llm_test

const raceSlowdown = 1
