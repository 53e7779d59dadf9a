package retrieval_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// toyExamples returns n noisy unit vectors around each of the classes'
// centres (class k is dimension k, dims dimensions in all).
func toyExamples(classes, n, dims int, seed uint64) []retrieval.Example {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []retrieval.Example
	id := int64(0)
	for range n {
		for k := range classes {
			v := make([]float32, dims)
			v[k] = 1
			for j := range v {
				if rng.IntN(3) == 0 { // sparse noise, as hashed features are
					v[j] += float32(rng.NormFloat64() * 0.3)
				}
			}
			normalise(v)
			id++
			out = append(out, retrieval.Example{ID: id, Group: fmt.Sprintf("intent:c%d", k), Vector: v})
		}
	}
	return out
}

func normalise(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(s))
	}
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

func TestTrainClassifierLearnsSeparableClasses(t *testing.T) {
	train := toyExamples(4, 30, 16, 1)
	test := toyExamples(4, 20, 16, 2)
	c, err := retrieval.TrainClassifier(train, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"intent:c0", "intent:c1", "intent:c2", "intent:c3"}; !slices.Equal(c.Classes, want) {
		t.Fatalf("classes %v, want %v", c.Classes, want)
	}
	if c.Dims != 16 || len(c.Weights) != 4*16 || len(c.Bias) != 4 || c.Examples != len(train) {
		t.Fatalf("shape: dims %d, %d weights, %d biases, %d examples", c.Dims, len(c.Weights), len(c.Bias), c.Examples)
	}
	right := 0
	for _, e := range test {
		p := c.Probabilities(e.Vector)
		sum := 0.0
		for _, x := range p {
			sum += x
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("probabilities sum to %v", sum)
		}
		if c.Classes[argmax(p)] == e.Group {
			right++
		}
	}
	if acc := float64(right) / float64(len(test)); acc < 0.95 {
		t.Errorf("accuracy on held-out points %.3f, want at least 0.95", acc)
	}
	prior := c.Prior(test[0].Vector)
	if len(prior) != 4 || prior[test[0].Group] < 0.5 {
		t.Errorf("prior %v: want 4 classes, %s likeliest", prior, test[0].Group)
	}
}

// The classifier weighs each dimension by how rare it is in the training
// vectors (inverse document frequency): a feature every example shares
// weighs least, one no example has most, and a feature shared by every
// example of both classes cannot outvote the one feature that tells them
// apart.
func TestTrainClassifierWeighsRareFeatures(t *testing.T) {
	// Dimension 0 is in every example ("card" in a bank's questions);
	// dimension 1 marks class a, dimension 2 class b; dimension 3 is never set.
	var ex []retrieval.Example
	for i := range 10 {
		a := []float32{0.9, 0.1, 0, 0}
		b := []float32{0.9, 0, 0.1, 0}
		normalise(a)
		normalise(b)
		ex = append(ex, retrieval.Example{ID: int64(2 * i), Group: "intent:a", Vector: a},
			retrieval.Example{ID: int64(2*i + 1), Group: "intent:b", Vector: b})
	}
	c, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Scale) != 4 {
		t.Fatalf("scale %v: want one weight per dimension", c.Scale)
	}
	want := []float64{1, math.Log(21.0/11) + 1, math.Log(21.0/11) + 1, math.Log(21) + 1}
	for j, w := range want {
		if math.Abs(float64(c.Scale[j])-w) > 1e-6 {
			t.Errorf("scale of dimension %d is %v, want %v", j, c.Scale[j], w)
		}
	}
	q := []float32{0.95, 0.05, 0, 0}
	normalise(q)
	if p := c.Prior(q); p["intent:a"] <= 2*p["intent:b"] {
		t.Errorf("prior %v: the class mark should decide, not the shared feature", p)
	}
	// Dense vectors (every dimension set) get the same weight everywhere.
	dense := toyExamples(3, 10, 8, 7)
	for i := range dense {
		for j := range dense[i].Vector {
			if dense[i].Vector[j] == 0 {
				dense[i].Vector[j] = 1e-3
			}
		}
	}
	if c, err = retrieval.TrainClassifier(dense, retrieval.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	for j, s := range c.Scale {
		if s != c.Scale[0] {
			t.Fatalf("dense vectors: dimension %d weighs %v, dimension 0 %v", j, s, c.Scale[0])
		}
	}
}

func TestTrainClassifierIsDeterministic(t *testing.T) {
	ex := toyExamples(5, 20, 32, 3)
	a, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Weights, b.Weights) || !slices.Equal(a.Bias, b.Bias) {
		t.Error("two trainings on the same data differ")
	}
	c, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Weights, c.Weights) {
		t.Error("another seed gave the same weights: is the order shuffled?")
	}
}

func TestTrainClassifierNeedsTwoClasses(t *testing.T) {
	one := toyExamples(1, 10, 8, 1)
	for name, ex := range map[string][]retrieval.Example{
		"no data":   nil,
		"one class": one,
		// The second class has a single example: too rare to learn.
		"one class with enough examples": append(slices.Clone(one), retrieval.Example{ID: 99, Group: "intent:rare", Vector: one[0].Vector}),
	} {
		if _, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{}); !errors.Is(err, retrieval.ErrTooFewClasses) {
			t.Errorf("%s: err %v, want ErrTooFewClasses", name, err)
		}
	}
	// With a third class that has enough, the rare one is left out.
	ex := append(toyExamples(2, 10, 8, 1), retrieval.Example{ID: 99, Group: "intent:rare", Vector: one[0].Vector})
	c, err := retrieval.TrainClassifier(ex, retrieval.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(c.Classes, "intent:rare") || c.Examples != 20 {
		t.Errorf("classes %v from %d examples: the rare class should be left out", c.Classes, c.Examples)
	}
	// MinExamples 1 learns it.
	c, err = retrieval.TrainClassifier(ex, retrieval.TrainOptions{MinExamples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.Classes, "intent:rare") {
		t.Errorf("classes %v: MinExamples 1 should learn the rare class", c.Classes)
	}
	// Vectors of different lengths are an error.
	bad := append(toyExamples(2, 2, 8, 1), retrieval.Example{Group: "intent:c0", Vector: make([]float32, 4)})
	if _, err := retrieval.TrainClassifier(bad, retrieval.TrainOptions{}); err == nil || errors.Is(err, retrieval.ErrTooFewClasses) {
		t.Errorf("mixed dimensions: err %v", err)
	}
}

func TestClassifierProbabilitiesEdgeCases(t *testing.T) {
	c := &retrieval.Classifier{Classes: []string{"intent:a", "intent:b"}, Dims: 2,
		Weights: []float32{1e4, 0, 0, 1e4}, Bias: []float32{0, 0}}
	p := c.Probabilities([]float32{1, 0})
	if p[0] != 1 || p[1] != 0 || math.IsNaN(p[0]) {
		t.Errorf("huge logits: %v, want [1 0] without overflow", p)
	}
	if c.Probabilities([]float32{1, 0, 0}) != nil || c.Prior(nil) != nil {
		t.Error("a vector of the wrong length should give nil")
	}
	var none *retrieval.Classifier
	if none.Prior([]float32{1, 0}) != nil {
		t.Error("a nil classifier should give a nil prior")
	}
}

func TestTrainingHash(t *testing.T) {
	ids, groups := []int64{1, 2, 3}, []string{"intent:a", "intent:a", "intent:b"}
	h := retrieval.TrainingHash(ids, groups, retrieval.TrainOptions{})
	if h != retrieval.TrainingHash(ids, groups, retrieval.TrainOptions{}) {
		t.Fatal("hash not stable")
	}
	if h != retrieval.TrainingHash(ids, groups, retrieval.TrainOptions{MinExamples: 2, Epochs: 15}) {
		t.Error("explicit defaults should hash like the zero options")
	}
	for name, other := range map[string]string{
		"new id":     retrieval.TrainingHash([]int64{1, 2, 4}, groups, retrieval.TrainOptions{}),
		"new label":  retrieval.TrainingHash(ids, []string{"intent:a", "intent:b", "intent:b"}, retrieval.TrainOptions{}),
		"new option": retrieval.TrainingHash(ids, groups, retrieval.TrainOptions{Epochs: 3}),
	} {
		if other == h {
			t.Errorf("%s: hash unchanged", name)
		}
	}
}

// memStore is an in-memory retrieval.TrainerStore and ClassifierSource.
type memStore struct {
	mu       sync.Mutex
	examples []retrieval.Example
	saved    *retrieval.Classifier
	loads    int
	fits     int   // SaveClassifier calls
	version  int64 // of the last save
}

func (s *memStore) TrainingLabels(context.Context, string, string) ([]int64, []string, error) {
	var ids []int64
	var groups []string
	for _, e := range s.examples {
		ids, groups = append(ids, e.ID), append(groups, e.Group)
	}
	return ids, groups, nil
}

func (s *memStore) TrainingExamples(_ context.Context, _, _ string, fn func(retrieval.Example) error) error {
	for _, e := range s.examples {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) ClassifierHash(context.Context, string, string) (string, bool, error) {
	if s.saved == nil {
		return "", false, nil
	}
	return s.saved.DataHash, true, nil
}

func (s *memStore) SaveClassifier(_ context.Context, _, _ string, c *retrieval.Classifier) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.TrainedAt = time.Now()
	s.version++
	c.Version = s.version
	s.saved = c
	s.fits++
	return nil
}

func (s *memStore) DeleteClassifier(context.Context, string, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = nil
	return nil
}

func (s *memStore) ClassifierVersion(context.Context, string, string) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saved == nil {
		return 0, false, nil
	}
	return s.saved.Version, true, nil
}

func (s *memStore) Classifier(context.Context, string, string) (*retrieval.Classifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	return s.saved, nil
}

func TestTrainerSkipsUnchangedData(t *testing.T) {
	ctx := context.Background()
	s := &memStore{examples: toyExamples(3, 10, 8, 1)}
	tr := retrieval.NewTrainer(s, retrieval.TrainOptions{})

	res, err := tr.Train(ctx, "ws", "m")
	if err != nil || res.Status != retrieval.TrainTrained || res.Classes != 3 || res.Examples != 30 {
		t.Fatalf("first training: %+v, %v", res, err)
	}
	if res, err = tr.Train(ctx, "ws", "m"); err != nil || res.Status != retrieval.TrainUnchanged || s.fits != 1 {
		t.Fatalf("same data: %+v, %v after %d fits; want unchanged", res, err, s.fits)
	}
	s.examples[0].ID = 1000 // re-ingested: a new chunk id
	if res, err = tr.Train(ctx, "ws", "m"); err != nil || res.Status != retrieval.TrainTrained || s.fits != 2 {
		t.Fatalf("changed data: %+v, %v", res, err)
	}
	s.examples = slices.DeleteFunc(s.examples, func(e retrieval.Example) bool { return e.Group != "intent:c0" })
	if res, err = tr.Train(ctx, "ws", "m"); err != nil || res.Status != retrieval.TrainNone || s.saved != nil {
		t.Fatalf("one class: %+v, %v; want none and the classifier deleted", res, err)
	}
	if res.String() == "" {
		t.Error("empty description")
	}
}

func TestClassifierCacheReloadsOnlyWhenRetrained(t *testing.T) {
	ctx := context.Background()
	s := &memStore{examples: toyExamples(2, 5, 4, 1)}
	cache := retrieval.NewClassifierCache(s, time.Hour)
	if c, err := cache.Get(ctx, "ws", "m"); c != nil || err != nil {
		t.Fatalf("no classifier yet: %v, %v", c, err)
	}
	if _, err := retrieval.NewTrainer(s, retrieval.TrainOptions{}).Train(ctx, "ws", "m"); err != nil {
		t.Fatal(err)
	}
	// Within the interval the cache does not look again.
	if c, _ := cache.Get(ctx, "ws", "m"); c != nil {
		t.Fatal("the cache looked again within its interval")
	}

	cache = retrieval.NewClassifierCache(s, time.Nanosecond)
	for range 3 {
		c, err := cache.Get(ctx, "ws", "m")
		if err != nil || c == nil {
			t.Fatalf("get: %v, %v", c, err)
		}
	}
	if s.loads != 1 {
		t.Errorf("%d loads of an unchanged classifier, want 1", s.loads)
	}
	s.examples[0].ID = 77
	time.Sleep(time.Millisecond) // a later trained_at
	if _, err := retrieval.NewTrainer(s, retrieval.TrainOptions{}).Train(ctx, "ws", "m"); err != nil {
		t.Fatal(err)
	}
	if c, _ := cache.Get(ctx, "ws", "m"); c != s.saved || s.loads != 2 {
		t.Errorf("after retraining: %d loads, current %v", s.loads, c == s.saved)
	}
}

// hit is a vector hit of an intent group.
func hit(id int64, group string, sim float64, rank int) parley.Hit {
	return parley.Hit{ChunkID: id, SourceID: id, Kind: "faq", ExternalID: fmt.Sprint(id), GroupKey: "intent:" + group, Intent: group,
		Answer: "answer " + group, Similarity: sim, VectorRank: rank}
}

func TestRankPriorOverrulesTheVote(t *testing.T) {
	// Three near neighbours say "a", one nearer says "b"; the classifier
	// is sure it is "b".
	hits := []parley.Hit{hit(1, "b", 0.80, 1), hit(2, "a", 0.78, 2), hit(3, "a", 0.77, 3), hit(4, "a", 0.76, 4)}
	vote := retrieval.Rank(hits, retrieval.RankOptions{})
	if top, _ := vote.Top(); top.Intent != "a" {
		t.Fatalf("the vote alone picks %q, want a", top.Intent)
	}
	mixed := retrieval.Rank(hits, retrieval.RankOptions{Prior: map[string]float64{"intent:a": 0.05, "intent:b": 0.95}})
	top, _ := mixed.Top()
	if top.Intent != "b" || top.Prior != 0.95 || top.Answer != "answer b" {
		t.Fatalf("with the prior: top %+v, want b", top)
	}
	sum := 0.0
	for _, c := range mixed.Candidates {
		sum += c.Score
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("scores sum to %v, want 1", sum)
	}
	// Without a prior, nothing changes.
	again := retrieval.Rank(hits, retrieval.RankOptions{Prior: nil})
	if fmt.Sprint(again) != fmt.Sprint(vote) {
		t.Error("a nil prior changed the ranking")
	}
}

func TestRankPriorAddsGroupsTheVoteMissed(t *testing.T) {
	hits := []parley.Hit{hit(1, "a", 0.8, 1), hit(2, "a", 0.7, 2)}
	for i := range 10 { // push "c" past the voting neighbours
		hits = append(hits, hit(int64(10+i), "x", 0.6-float64(i)/100, 3+i))
	}
	hits = append(hits, hit(30, "c", 0.4, 13))
	prior := map[string]float64{"intent:a": 0.1, "intent:b": 0.7, "intent:c": 0.15, "intent:x": 0.05}
	// "b" is nowhere in the hits: without a hit to speak for it, it is
	// left out; "c" is past the vote but among the hits.
	r := retrieval.Rank(hits, retrieval.RankOptions{Prior: prior})
	for _, c := range r.Candidates {
		if c.Intent == "b" {
			t.Fatal("a group without any hit became a candidate")
		}
	}
	if !slices.ContainsFunc(r.Candidates, func(c retrieval.Candidate) bool { return c.Intent == "c" }) {
		t.Error("a known group among the hits but past the vote is not a candidate")
	}
	// The store's nearest chunk of "b" lets it in, and win.
	extra := hit(40, "b", 0.55, 0)
	extra.VectorRank = 0
	r = retrieval.Rank(hits, retrieval.RankOptions{Prior: prior, PriorHits: []parley.Hit{extra}})
	top, _ := r.Top()
	if top.Intent != "b" || top.Similarity != 0.55 || top.Answer != "answer b" || len(top.Sources) != 1 || top.Hits != 1 {
		t.Fatalf("top %+v, want b from its prior hit", top)
	}
	// The prior hit did not vote: "x" keeps its share of the vote.
	base := retrieval.Rank(hits, retrieval.RankOptions{Prior: prior})
	if score(r, "x") != score(base, "x") {
		t.Errorf("x scores %v with the prior hit, %v without", score(r, "x"), score(base, "x"))
	}
}

func TestRankPriorLeavesUnknownGroupsTheirShare(t *testing.T) {
	article := parley.Hit{ChunkID: 9, SourceID: 9, Kind: "article", GroupKey: "source:guide#0", Similarity: 0.9, VectorRank: 1, Answer: "guide"}
	hits := []parley.Hit{article, hit(1, "a", 0.8, 2), hit(2, "b", 0.7, 3)}
	base := retrieval.Rank(hits, retrieval.RankOptions{})
	mixed := retrieval.Rank(hits, retrieval.RankOptions{Prior: map[string]float64{"intent:a": 0.2, "intent:b": 0.8}})
	if score(base, "") != score(mixed, "") {
		t.Errorf("the article's share changed from %v to %v", score(base, ""), score(mixed, ""))
	}
	// a and b share out what they won together.
	if got, want := score(mixed, "a")+score(mixed, "b"), score(base, "a")+score(base, "b"); math.Abs(got-want) > 1e-9 {
		t.Errorf("intents hold %v together, want %v", got, want)
	}
	if score(mixed, "b") <= score(mixed, "a") {
		t.Error("the classifier's favourite should lead among the intents")
	}
}

// score is the score of the candidate with the intent ("" for the
// candidate without one).
func score(r retrieval.Ranking, intent string) float64 {
	for _, c := range r.Candidates {
		if c.Intent == intent {
			return c.Score
		}
	}
	return math.NaN()
}

// Quality and training time of the classifier on Banking77 (see
// TestLocalQualityBanking77 for the data set): trained on the 10,003 train
// questions' local-v1 vectors, judged on the 3,080 test questions with the
// softmax probability as confidence. Run with
//
//	PARLEY_BANKING77=/path/to/banking77 go test -run TestClassifierQualityBanking77 -v ./retrieval/
func TestClassifierQualityBanking77(t *testing.T) {
	train, test := localLoadBanking77(t)
	emb := retrieval.NewLocal()
	knowledge, _ := localEmbedTimed(t, emb, train.texts)
	queries, _ := localEmbedTimed(t, emb, test.texts)
	examples := make([]retrieval.Example, len(knowledge))
	for i, v := range knowledge {
		examples[i] = retrieval.Example{ID: int64(i), Group: parley.IntentGroupPrefix + train.labels[i], Vector: v}
	}
	var times []time.Duration
	var c *retrieval.Classifier
	for range 3 {
		start := time.Now()
		var err error
		if c, err = retrieval.TrainClassifier(examples, retrieval.TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	right := 0
	answers := make([]localScored, len(queries))
	for i, q := range queries {
		p := c.Probabilities(q)
		k := argmax(p)
		ok := c.Classes[k] == parley.IntentGroupPrefix+test.labels[i]
		if ok {
			right++
		}
		answers[i] = localScored{confidence: p[k], correct: ok}
	}
	top1 := float64(right) / float64(len(queries))
	at95 := localAnsweredAtPrecision(answers, 0.95)
	t.Logf("\nBanking77 intent classifier on %s vectors: %d classes, %d examples\n"+
		"  top-1 intent accuracy                      %.4f\n"+
		"  answered-and-correct @95%% precision        %.4f\n"+
		"  training time, median of 3                 %v (runs %v)",
		emb.Model(), len(c.Classes), c.Examples, top1, at95, times[1].Round(time.Millisecond), times)
	if top1 < 0.89 || at95 < 0.80 {
		t.Errorf("top-1 %.4f (floor 0.89), answered @95%% %.4f (floor 0.80)", top1, at95)
	}
}

// With more classes than SampledClasses a step updates a sample of them;
// the classifier still learns every class, as well as the full softmax on
// the same (noisy) data does, and faster.
func TestTrainClassifierSampledSoftmax(t *testing.T) {
	train := toyExamples(200, 4, 256, 4)
	test := toyExamples(200, 2, 256, 5)
	accuracy := func(c *retrieval.Classifier) float64 {
		right := 0
		for _, e := range test {
			if c.Classes[argmax(c.Probabilities(e.Vector))] == e.Group {
				right++
			}
		}
		return float64(right) / float64(len(test))
	}
	start := time.Now()
	sampled, err := retrieval.TrainClassifier(train, retrieval.TrainOptions{SampledClasses: 16})
	if err != nil {
		t.Fatal(err)
	}
	tSampled := time.Since(start)
	start = time.Now()
	full, err := retrieval.TrainClassifier(train, retrieval.TrainOptions{SampledClasses: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tFull := time.Since(start)
	aSampled, aFull := accuracy(sampled), accuracy(full)
	t.Logf("200 classes: sampled (16) %.3f accuracy in %s, full softmax %.3f in %s", aSampled, tSampled, aFull, tFull)
	if len(sampled.Classes) != 200 || aSampled < aFull-0.03 || aSampled < 0.3 {
		t.Errorf("sampled softmax: %d classes, held-out accuracy %.3f (full softmax %.3f); want 200 and about as good", len(sampled.Classes), aSampled, aFull)
	}
	if tSampled >= tFull {
		t.Errorf("sampled softmax took %s, the full one %s", tSampled, tFull)
	}
}
