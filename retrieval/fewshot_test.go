package retrieval_test

import (
	"cmp"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// TestFewShotBanking77InMemory is the Banking77 learning curve of the
// offline default in about a minute, without a database: for 1, 2, 4, 11
// and all training questions per intent (the first ones of train.csv in
// file order, as make bench-learning and make bench-fewshot take them),
// the local-v1 vectors are the knowledge, the intent classifier is trained
// on them, and each of the 3,080 test questions is ranked by Rank over its
// 20 nearest vectors (brute force) with the classifier's prior and the
// nearest chunk of its likeliest groups, as the engine does. Full-text
// hits, HNSW and the calibration are left out, so figures are within about
// 0.01 of the engine's. Run with
//
//	PARLEY_FEWSHOT=1 PARLEY_BANKING77=/path/to/banking77 go test -run TestFewShotBanking77InMemory -v ./retrieval/
func TestFewShotBanking77InMemory(t *testing.T) {
	if os.Getenv("PARLEY_FEWSHOT") == "" {
		t.Skip("set PARLEY_FEWSHOT=1 (and PARLEY_BANKING77) to measure the learning curve in memory")
	}
	train, test := localLoadBanking77(t)
	emb := retrieval.NewLocal()
	trainVecs, _ := localEmbedTimed(t, emb, train.texts)
	testVecs, _ := localEmbedTimed(t, emb, test.texts)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| examples per intent | knowledge | hit@1 | coverage @95%% precision (Rank's confidence) |\n|---|---|---|---|\n")
	for _, n := range []int{1, 2, 4, 11, 0} {
		keep := firstPerLabel(train.labels, n)
		hit1, cov := fewShotRun(t, train, trainVecs, keep, test, testVecs)
		label := fmt.Sprint(n)
		if n == 0 {
			label = "all"
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f |\n", label, len(keep), hit1, cov)
	}
	t.Log(b.String())
}

// firstPerLabel returns the indexes of the first n items of each label in
// order (n 0: all).
func firstPerLabel(labels []string, n int) []int {
	seen := map[string]int{}
	var keep []int
	for i, l := range labels {
		if n > 0 && seen[l] >= n {
			continue
		}
		seen[l]++
		keep = append(keep, i)
	}
	return keep
}

// fewShotRun ranks every test question against the kept training vectors
// and returns hit@1 and the share answered correctly at 95% precision.
func fewShotRun(t *testing.T, train localLabelled, trainVecs [][]float32, keep []int, test localLabelled, testVecs [][]float32) (float64, float64) {
	t.Helper()
	know := make([][]float32, len(keep))
	groups := make([]string, len(keep))
	var examples []retrieval.Example
	for i, k := range keep {
		know[i], groups[i] = trainVecs[k], parley.IntentGroupPrefix+train.labels[k]
		examples = append(examples, retrieval.Example{ID: int64(k), Group: groups[i], Vector: trainVecs[k]})
	}
	clf, err := retrieval.TrainClassifier(examples, retrieval.TrainOptions{})
	if err != nil {
		clf = nil // too few examples: the vote alone, as in the engine
	}
	nearest := localNearestAll(know, testVecs, 20)
	answers := make([]localScored, len(testVecs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := w; q < len(testVecs); q += workers {
				var hits []parley.Hit
				for r, nb := range nearest[q] {
					hits = append(hits, fewShotHit(groups, nb.index, float64(nb.sim), r+1))
				}
				opts := retrieval.RankOptions{Prior: clf.Prior(testVecs[q])}
				for _, g := range likelyMissing(opts.Prior, hits) {
					i, sim := nearestOfGroup(know, groups, g, testVecs[q])
					opts.PriorHits = append(opts.PriorHits, fewShotHit(groups, i, sim, 0))
				}
				r := retrieval.Rank(hits, opts)
				top, _ := r.Top()
				answers[q] = localScored{confidence: r.Confidence, correct: top.GroupKey == parley.IntentGroupPrefix+test.labels[q]}
			}
		}()
	}
	wg.Wait()
	right := 0
	for _, a := range answers {
		if a.correct {
			right++
		}
	}
	return float64(right) / float64(len(answers)), localAnsweredAtPrecision(answers, 0.95)
}

func fewShotHit(groups []string, i int, sim float64, rank int) parley.Hit {
	return parley.Hit{ChunkID: int64(i), GroupKey: groups[i], Intent: strings.TrimPrefix(groups[i], parley.IntentGroupPrefix), Similarity: sim, VectorRank: rank}
}

// likelyMissing returns the classifier's three likeliest groups with a
// probability of at least 0.1 that no hit belongs to (the engine's
// missingGroups).
func likelyMissing(prior map[string]float64, hits []parley.Hit) []string {
	var likely []string
	for g, p := range prior {
		if p >= 0.1 {
			likely = append(likely, g)
		}
	}
	slices.SortFunc(likely, func(a, b string) int {
		if c := cmp.Compare(prior[b], prior[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var out []string
	for _, g := range likely[:min(3, len(likely))] {
		if !slices.ContainsFunc(hits, func(h parley.Hit) bool { return h.GroupKey == g }) {
			out = append(out, g)
		}
	}
	return out
}

// nearestOfGroup returns the index and similarity of the group's vector
// nearest to q.
func nearestOfGroup(know [][]float32, groups []string, g string, q []float32) (int, float64) {
	best, bestSim := -1, -2.0
	for i, v := range know {
		if groups[i] != g {
			continue
		}
		var s float64
		for d, x := range q {
			if x != 0 {
				s += float64(x * v[d])
			}
		}
		if s > bestSim {
			best, bestSim = i, s
		}
	}
	return best, bestSim
}
