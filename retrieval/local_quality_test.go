package retrieval_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/retrieval"
)

// Quality of the offline embedder on Banking77 (PolyAI, 77 banking intents):
// the train questions are the knowledge (each localLabelled with its intent), the
// test questions are incoming questions, and an answer is right when its
// intent matches. Run with
//
//	PARLEY_BANKING77=/path/to/banking77 go test -run TestLocalQualityBanking77 -v ./retrieval/
//
// The folder holds train.csv and test.csv (columns text,category). The data
// set is never copied into the repository.

const (
	localBanking77Env = "PARLEY_BANKING77"
	localVoteK        = 10

	// Floors asserted when the data set is given (issue targets: vote at
	// least the TF-IDF + char n-gram reference 0.832, aim 0.88).
	localMinTop1 = 0.77
	localMinVote = 0.83
)

func TestLocalQualityBanking77(t *testing.T) {
	train, test := localLoadBanking77(t)
	emb := retrieval.NewLocal()

	knowledge, trainTime := localEmbedTimed(t, emb, train.texts)
	queries, _ := localEmbedTimed(t, emb, test.texts)
	r := localEvaluateKNN(knowledge, train.labels, queries, test.labels)

	var b strings.Builder
	fmt.Fprintf(&b, "\nBanking77, %s: %d train questions as knowledge, %d test questions\n", emb.Model(), len(train.texts), len(test.texts))
	fmt.Fprintf(&b, "  %-52s %8.4f\n", "top-1 intent accuracy", r.top1)
	fmt.Fprintf(&b, "  %-52s %8.4f\n", fmt.Sprintf("%d-NN similarity-weighted vote accuracy", localVoteK), r.vote)
	fmt.Fprintf(&b, "  %-52s %8.4f\n", "answered-and-correct @95% precision (vote share)", r.answered95Share)
	fmt.Fprintf(&b, "  %-52s %8.4f\n", "answered-and-correct @95% precision (vote margin)", r.answered95Margin)
	fmt.Fprintf(&b, "  %-52s %8.4f\n", "answered-and-correct @95% precision (sim^4 share)", r.answered95Sharp)
	fmt.Fprintf(&b, "  %-52s %8.0f texts/s (%v for %d texts, 1 goroutine)\n", "embedding throughput",
		float64(len(train.texts))/trainTime.Seconds(), trainTime.Round(time.Millisecond), len(train.texts))
	t.Log(b.String())

	if r.top1 < localMinTop1 {
		t.Errorf("top-1 accuracy %.4f is below the floor %.2f", r.top1, localMinTop1)
	}
	if r.vote < localMinVote {
		t.Errorf("%d-NN vote accuracy %.4f is below the floor %.2f", localVoteK, r.vote, localMinVote)
	}
}

// localLabelled is a column pair of the data set.
type localLabelled struct {
	texts  []string
	labels []string
}

// localLoadBanking77 reads train.csv and test.csv from $PARLEY_BANKING77, or skips.
func localLoadBanking77(t testing.TB) (train, test localLabelled) {
	t.Helper()
	dir := os.Getenv(localBanking77Env)
	if dir == "" {
		t.Skipf("set %s to the Banking77 folder (train.csv, test.csv) to measure embedding quality", localBanking77Env)
	}
	return localReadCSV(t, filepath.Join(dir, "train.csv")), localReadCSV(t, filepath.Join(dir, "test.csv"))
}

func localReadCSV(t testing.TB, path string) localLabelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(rows) < 2 || rows[0][0] != "text" || rows[0][1] != "category" {
		t.Fatalf("%s: want a header text,category and rows", path)
	}
	var d localLabelled
	for _, row := range rows[1:] {
		d.texts = append(d.texts, row[0])
		d.labels = append(d.labels, row[1])
	}
	return d
}

// localEmbedTimed embeds texts in one call (one goroutine) and times it.
func localEmbedTimed(t testing.TB, emb retrieval.Embedder, texts []string) ([][]float32, time.Duration) {
	t.Helper()
	start := time.Now()
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("embed: %v", err)
	}
	return vecs, time.Since(start)
}

// localKNNResult holds the scores of one evaluation.
type localKNNResult struct {
	top1, vote       float64 // accuracy of the nearest answer and of the weighted vote
	answered95Share  float64 // answered-and-correct share at 95% precision, confidence = vote share
	answered95Margin float64 // same, confidence = (winner - runner-up) / total vote weight
	answered95Sharp  float64 // same, confidence = winner's share of a vote weighted by similarity^4
}

// localNeighbour is one of the nearest knowledge vectors of a query.
type localNeighbour struct {
	index int
	sim   float32
}

// localEvaluateKNN answers every query by brute-force localCosine (vectors are unit
// length, so a dot product) over the knowledge, then scores top-1 and the
// similarity-weighted vote of the localVoteK nearest.
func localEvaluateKNN(knowledge [][]float32, knowLabels []string, queries [][]float32, queryLabels []string) localKNNResult {
	nearest := localNearestAll(knowledge, queries, localVoteK)
	var r localKNNResult
	share := make([]localScored, len(queries))
	margin := make([]localScored, len(queries))
	sharp := make([]localScored, len(queries))
	for q, nn := range nearest {
		want := queryLabels[q]
		if knowLabels[nn[0].index] == want {
			r.top1++
		}
		winner, first, second, total := localWeightedVote(nn, knowLabels)
		right := winner == want
		if right {
			r.vote++
		}
		share[q] = localScored{confidence: first / total, correct: right}
		margin[q] = localScored{confidence: (first - second) / total, correct: right}
		sharp[q] = localScored{confidence: localSharpShare(nn, knowLabels, winner), correct: right}
	}
	n := float64(len(queries))
	r.top1 /= n
	r.vote /= n
	r.answered95Share = localAnsweredAtPrecision(share, 0.95)
	r.answered95Margin = localAnsweredAtPrecision(margin, 0.95)
	r.answered95Sharp = localAnsweredAtPrecision(sharp, 0.95)
	return r
}

// localWeightedVote sums the similarity of the neighbours per label; it returns
// the winning label, its weight, the runner-up's weight and the total.
// Negative similarities count as zero.
func localWeightedVote(nn []localNeighbour, labels []string) (winner string, first, second, total float64) {
	weights := make(map[string]float64, len(nn))
	for _, n := range nn {
		w := max(float64(n.sim), 0)
		weights[labels[n.index]] += w
		total += w
	}
	// Deterministic winner: highest weight, ties to the nearer localNeighbour.
	for _, n := range nn {
		l := labels[n.index]
		if w := weights[l]; w > first {
			first, winner = w, l
		}
	}
	for l, w := range weights {
		if l != winner && w > second {
			second = w
		}
	}
	if total == 0 {
		total = 1
	}
	return winner, first, second, total
}

// localSharpShare is the winner's share of the neighbours' similarity^4: the
// same vote, but the confidence trusts close neighbours far more than loose
// ones. On the Banking77 dev split it answers 1.5 to 2 points more queries at
// 95% precision than the plain share (tried also: margin, top-1 similarity,
// share times top-1 similarity, the winner's absolute weight).
func localSharpShare(nn []localNeighbour, labels []string, winner string) float64 {
	var mine, total float64
	for _, n := range nn {
		s := max(float64(n.sim), 0)
		w := s * s * s * s
		total += w
		if labels[n.index] == winner {
			mine += w
		}
	}
	if total == 0 {
		return 0
	}
	return mine / total
}

// localScored is one answered query: the confidence, and whether it was right.
type localScored struct {
	confidence float64
	correct    bool
}

// localAnsweredAtPrecision sorts the answers by confidence, highest first, and
// returns the correct answers within the longest prefix whose precision is at
// least minPrecision, as a share of all queries. A prefix only ends where the
// confidence changes, since a threshold cannot split equal confidences.
func localAnsweredAtPrecision(answers []localScored, minPrecision float64) float64 {
	s := append([]localScored(nil), answers...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].confidence > s[j].confidence })
	best, correct := 0, 0
	for i, a := range s {
		if a.correct {
			correct++
		}
		endOfTies := i+1 == len(s) || s[i+1].confidence != a.confidence
		if endOfTies && float64(correct) >= minPrecision*float64(i+1) {
			best = correct
		}
	}
	return float64(best) / float64(len(answers))
}

// localNearestAll returns, for every query, its k nearest knowledge vectors by dot
// product, nearest first. The knowledge is stored dimension-major, so each
// query only visits the dimensions where it is non-zero (hashed vectors are
// sparse); queries are split across the available cores.
func localNearestAll(knowledge, queries [][]float32, k int) [][]localNeighbour {
	n := len(knowledge)
	dims := 0
	if n > 0 {
		dims = len(knowledge[0])
	}
	byDim := make([]float32, dims*n)
	for i, v := range knowledge {
		for d, x := range v {
			byDim[d*n+i] = x
		}
	}
	out := make([][]localNeighbour, len(queries))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scores := make([]float32, n)
			for q := w; q < len(queries); q += workers {
				clear(scores)
				for d, x := range queries[q] {
					if x == 0 {
						continue
					}
					col := byDim[d*n : (d+1)*n]
					for i, y := range col {
						scores[i] += x * y
					}
				}
				out[q] = localTopK(scores, k)
			}
		}()
	}
	wg.Wait()
	return out
}

// localTopK returns the k highest scores, highest first (ties: lower index first).
func localTopK(scores []float32, k int) []localNeighbour {
	top := make([]localNeighbour, 0, k+1)
	for i, sim := range scores {
		if len(top) == k && sim <= top[k-1].sim {
			continue
		}
		pos := len(top)
		for pos > 0 && top[pos-1].sim < sim {
			pos--
		}
		top = append(top, localNeighbour{})
		copy(top[pos+1:], top[pos:])
		top[pos] = localNeighbour{index: i, sim: sim}
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}
