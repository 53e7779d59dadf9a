package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Classifier is a workspace's intent classifier: a multinomial logistic
// regression over the embedding vectors of its labelled knowledge (FAQ
// entries and resolved conversations with an intent). The kNN vote of Rank
// only looks at the nearest examples; the classifier has learned from all
// of them which features tell one intent from another, and Rank mixes its
// probabilities into the vote (RankOptions.Prior).
type Classifier struct {
	// Classes are the answer groups it tells apart ("intent:..."), sorted.
	Classes []string
	// Dims is the length of the vectors it takes.
	Dims int
	// Weights holds one row of Dims weights per class; Bias one per class.
	Weights []float32
	Bias    []float32
	// Scale, when set, weighs each dimension before the vector is
	// normalised again and classified (see featureScale); nil: none.
	Scale []float32
	// Examples is how many vectors it was trained on.
	Examples int
	// DataHash identifies the training data (see TrainingHash).
	DataHash string
	// TrainedAt is when it was stored.
	TrainedAt time.Time
	// Version is the stored model's version: each training stores a new
	// one, never reused.
	Version int64
}

// Probabilities returns the softmax probability of each class (in Classes
// order) for a vector; they sum to 1. A vector of the wrong length gets
// nil.
func (c *Classifier) Probabilities(vec []float32) []float64 {
	if c == nil || len(vec) != c.Dims || len(c.Classes) == 0 {
		return nil
	}
	// The vectors are sparse: summing over the dimensions set gives the
	// same dot products (in the same order) at a third of the cost.
	var set []int
	for j, x := range vec {
		if x != 0 {
			set = append(set, j)
		}
	}
	if len(c.Scale) == c.Dims { // nil for classifiers stored before featureScale
		vec = scaled(vec, set, c.Scale)
	}
	z := make([]float64, len(c.Classes))
	for k := range c.Classes {
		row := c.Weights[k*c.Dims : (k+1)*c.Dims]
		var dot float32
		for _, j := range set {
			dot += row[j] * vec[j]
		}
		z[k] = float64(dot + c.Bias[k])
	}
	softmax(z)
	return z
}

// Prior returns the class probabilities for a vector keyed by class (the
// answer group), as RankOptions.Prior takes them; nil when the vector
// does not fit.
func (c *Classifier) Prior(vec []float32) map[string]float64 {
	p := c.Probabilities(vec)
	if p == nil {
		return nil
	}
	out := make(map[string]float64, len(p))
	for k, v := range p {
		out[c.Classes[k]] = v
	}
	return out
}

// featureScale returns the weight of each dimension in a workspace's
// training vectors: its inverse document frequency, ln((n+1)/(df+1)) + 1,
// where df is how many of the n vectors have it set. The embedder weighs
// a word by its frequency in general English; this weighs each hashed
// feature by how common it is in the workspace's own knowledge, so that
// "card", in every second question of a bank's knowledge, counts for less
// than the features that tell its intents apart. Dense vectors (a remote
// embedder sets every dimension) get the same weight everywhere, which
// changes nothing. Measured on Banking77 through the engine, on the same
// database (BENCHMARKS.md, issue #17, 2026-12-08): top-1 0.913 -> 0.918,
// coverage at 95% precision 0.873 -> 0.880; each workspace's calibration
// keeps its precision (it was landed once before that calibration, with
// softened logits, and broke the sample and brizo suites' precision).
func featureScale(data sparseSet, dims int) []float32 {
	df := make([]float64, dims)
	for _, j := range data.idx {
		df[j]++
	}
	n := float64(len(data.label))
	scale := make([]float32, dims)
	for j := range scale {
		scale[j] = float32(math.Log((n+1)/(df[j]+1)) + 1)
	}
	return scale
}

// scaled returns a copy of vec with its dimensions in set weighed by scale
// and normalised to unit length again.
func scaled(vec []float32, set []int, scale []float32) []float32 {
	out := make([]float32, len(vec))
	for _, j := range set {
		out[j] = vec[j] * scale[j]
	}
	NormaliseL2(out)
	return out
}

// softmax turns z into probabilities in place.
func softmax(z []float64) {
	hi := math.Inf(-1)
	for _, v := range z {
		hi = math.Max(hi, v)
	}
	var sum float64
	for i, v := range z {
		z[i] = math.Exp(v - hi)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// Example is one labelled vector to learn from.
type Example struct {
	ID     int64 // the chunk's id: only for TrainingHash
	Group  string
	Vector []float32
}

// TrainOptions tune TrainClassifier. The zero value gives the defaults,
// chosen on an 80/20 split of Banking77's training questions (see
// BENCHMARKS.md).
type TrainOptions struct {
	// MinExamples is how many examples a class needs to be learned
	// (default 2); rarer ones are left to the kNN vote.
	MinExamples int
	// Epochs are passes over the examples (default 15).
	Epochs int
	// LearningRate is the SGD step size at the start (default 2); it
	// decays linearly to 0 over the epochs.
	LearningRate float64
	// L2 is the weight decay per example (default 1e-6).
	L2 float64
	// Seed fixes the shuffling order (default 1): the same data and
	// options always give the same weights.
	Seed uint64
	// SampledClasses bounds a step's work when there are more than twice
	// as many classes (default 64, so above 128 classes): a step then
	// updates the example's class and this many others drawn at random
	// (sampled softmax), not every class, so training time grows with the
	// examples, not with examples × classes.
	SampledClasses int
	// MaxSteps caps the steps (examples seen) of a training (default
	// 600,000): with more than MaxSteps/Epochs examples, fewer epochs run,
	// at least one.
	MaxSteps int
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.MinExamples < 1 {
		o.MinExamples = 2
	}
	if o.Epochs <= 0 {
		o.Epochs = 15
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 2
	}
	if o.L2 <= 0 {
		o.L2 = 1e-6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.SampledClasses <= 0 {
		o.SampledClasses = 64
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 600_000
	}
	return o
}

// signature names the options in the training hash: changing them retrains.
func (o TrainOptions) signature() string {
	return fmt.Sprintf("sgd-softmax-v3-idf|min=%d|epochs=%d|lr=%g|l2=%g|seed=%d|sampled=%d|steps=%d",
		o.MinExamples, o.Epochs, o.LearningRate, o.L2, o.Seed, o.SampledClasses, o.MaxSteps)
}

// ErrTooFewClasses is returned by TrainClassifier when the examples hold
// fewer than two classes with MinExamples each: nothing to tell apart.
var ErrTooFewClasses = errors.New("fewer than two intents with enough examples")

// TrainClassifier fits a multinomial logistic regression to the examples
// by stochastic gradient descent: Epochs passes in a seeded random order
// (fewer when that would exceed MaxSteps), one example per step, a learning
// rate decaying linearly to 0, L2 regularisation. With more than twice
// SampledClasses classes each step updates a sample of them (see
// classSampler), so training time is bounded by MaxSteps whatever the
// number of examples and intents. Embedding vectors of the local
// embedder are sparse (a few hundred of 1024 dimensions are set), so each
// step only touches the weights of the example's non-zero dimensions; the
// weight decay of all the others is kept as one shared scale factor
// (Bottou, "Stochastic Gradient Descent Tricks", 2012). It runs on one
// goroutine and is deterministic. Examples whose vector length differs from
// the first's are an error.
func TrainClassifier(examples []Example, opts TrainOptions) (*Classifier, error) {
	opts = opts.withDefaults()
	if len(examples) == 0 {
		return nil, ErrTooFewClasses
	}
	dims := len(examples[0].Vector)
	counts := map[string]int{}
	for _, e := range examples {
		if len(e.Vector) != dims {
			return nil, fmt.Errorf("train classifier: example %d has %d dimensions, the first has %d", e.ID, len(e.Vector), dims)
		}
		counts[e.Group]++
	}
	var classes []string
	for g, n := range counts {
		if n >= opts.MinExamples {
			classes = append(classes, g)
		}
	}
	if len(classes) < 2 {
		return nil, ErrTooFewClasses
	}
	sort.Strings(classes)
	classOf := make(map[string]int32, len(classes))
	for k, g := range classes {
		classOf[g] = int32(k)
	}
	data := newSparseSet(examples, classOf)
	n, nc := len(data.label), len(classes)
	scale := featureScale(data, dims)
	data.rescale(scale)

	// w is feature-major during training, [dims][classes], so that the
	// weights one non-zero dimension touches are contiguous; the true
	// weights are decay·w.
	w := make([]float32, dims*nc)
	bias := make([]float64, nc)
	decay := 1.0 // the true weights are decay·w
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	var sampler *classSampler
	if nc > 2*opts.SampledClasses {
		sampler = newClassSampler(nc, opts.SampledClasses)
	}
	epochs := max(1, min(opts.Epochs, opts.MaxSteps/n))
	z := make([]float64, nc)
	acc := make([]float32, nc)
	grad := make([]float32, nc)
	t := 0.0
	total := float64(epochs * n)
	for range epochs {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			idx, val := data.row(i)
			if sampler != nil {
				sampler.forward(rng, w, bias, idx, val, data.label[i], decay)
			} else {
				clear(acc)
				for p, j := range idx {
					axpy(acc, w[int(j)*nc:int(j+1)*nc], val[p])
				}
				for k := range z {
					z[k] = decay*float64(acc[k]) + bias[k]
				}
				softmax(z)
				z[data.label[i]] -= 1 // gradient of the log loss by the logits
			}

			eta := opts.LearningRate * (1 - t/total)
			t++
			decay *= 1 - eta*opts.L2
			step := eta / decay
			if sampler != nil {
				sampler.update(w, bias, idx, val, eta, step)
			} else {
				for k := range grad {
					grad[k] = float32(-step * z[k])
					bias[k] -= eta * z[k]
				}
				for p, j := range idx {
					axpy(w[int(j)*nc:int(j+1)*nc], grad, val[p])
				}
			}
			if decay < 1e-6 { // fold the decay into the weights before it underflows
				for k := range w {
					w[k] *= float32(decay)
				}
				decay = 1
			}
		}
	}

	c := &Classifier{Classes: classes, Dims: dims, Weights: make([]float32, nc*dims), Bias: make([]float32, nc), Scale: scale, Examples: n}
	for j := range dims {
		for k := range nc {
			c.Weights[k*dims+j] = float32(decay * float64(w[j*nc+k]))
		}
	}
	for k := range nc {
		c.Bias[k] = float32(bias[k])
	}
	return c, nil
}

// classSampler does the steps of sampled softmax (Jean et al., "On Using
// Very Large Target Vocabulary", 2015): the logits of the example's class
// and of k others drawn uniformly without replacement, each of those
// corrected by log((classes-1)/k) so that the sample stands for all the
// other classes, and only their weights updated.
type classSampler struct {
	nc, k      int
	correction float64
	cand       []int32 // cand[0] is the example's class
	mark       []uint32
	stamp      uint32
	z          []float64
	acc, grad  []float32
}

func newClassSampler(nc, k int) *classSampler {
	return &classSampler{nc: nc, k: k, correction: math.Log(float64(nc-1) / float64(k)),
		cand: make([]int32, k+1), mark: make([]uint32, nc), z: make([]float64, k+1),
		acc: make([]float32, k+1), grad: make([]float32, k+1)}
}

// forward draws the classes of a step on the example (idx, val) of class
// label and leaves in z the gradient of the log loss by their logits; w is
// feature-major [dims][classes], its true weights decay·w.
func (s *classSampler) forward(rng *rand.Rand, w []float32, bias []float64, idx []int32, val []float32, label int32, decay float64) {
	s.stamp++
	s.cand[0], s.mark[label] = label, s.stamp
	for c := 1; c <= s.k; {
		k := int32(rng.IntN(s.nc))
		if s.mark[k] != s.stamp {
			s.mark[k] = s.stamp
			s.cand[c] = k
			c++
		}
	}
	clear(s.acc)
	for p, j := range idx {
		row, v := w[int(j)*s.nc:int(j+1)*s.nc], val[p]
		for c, k := range s.cand {
			s.acc[c] += v * row[k]
		}
	}
	for c, k := range s.cand {
		s.z[c] = decay*float64(s.acc[c]) + bias[k]
		if c > 0 {
			s.z[c] += s.correction
		}
	}
	softmax(s.z)
	s.z[0] -= 1
}

// update applies the gradient forward left, with learning rate eta (step
// on the scaled weights).
func (s *classSampler) update(w []float32, bias []float64, idx []int32, val []float32, eta, step float64) {
	for c, k := range s.cand {
		s.grad[c] = float32(-step * s.z[c])
		bias[k] -= eta * s.z[c]
	}
	for p, j := range idx {
		row, v := w[int(j)*s.nc:int(j+1)*s.nc], val[p]
		for c, k := range s.cand {
			row[k] += s.grad[c] * v
		}
	}
}

// axpy adds a·x to y.
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	for k := range y {
		y[k] += a * x[k]
	}
}

// sparseSet holds the examples of the learned classes as sparse rows.
type sparseSet struct {
	start []int // row i is idx[start[i]:start[i+1]]
	idx   []int32
	val   []float32
	label []int32
}

func newSparseSet(examples []Example, classOf map[string]int32) sparseSet {
	s := sparseSet{start: []int{0}}
	for _, e := range examples {
		k, ok := classOf[e.Group]
		if !ok {
			continue
		}
		for j, x := range e.Vector {
			if x != 0 {
				s.idx = append(s.idx, int32(j))
				s.val = append(s.val, x)
			}
		}
		s.start = append(s.start, len(s.idx))
		s.label = append(s.label, k)
	}
	return s
}

// rescale weighs every row's values by scale and normalises the row to
// unit length again.
func (s sparseSet) rescale(scale []float32) {
	for i := range s.label {
		idx, val := s.row(i)
		var sum float64
		for p, j := range idx {
			val[p] *= scale[j]
			sum += float64(val[p]) * float64(val[p])
		}
		if sum > 0 {
			inv := float32(1 / math.Sqrt(sum))
			for p := range val {
				val[p] *= inv
			}
		}
	}
}

func (s sparseSet) row(i int) ([]int32, []float32) {
	return s.idx[s.start[i]:s.start[i+1]], s.val[s.start[i]:s.start[i+1]]
}

// TrainingHash identifies a workspace's training data: the chunk ids and
// group keys of its labelled examples, in the order given, and the
// training options. Chunks get new ids whenever an ingest rewrites them, so
// an unchanged hash means there is nothing new to learn.
func TrainingHash(ids []int64, groups []string, opts TrainOptions) string {
	h := sha256.New()
	h.Write([]byte(opts.withDefaults().signature()))
	var buf [8]byte
	for i, id := range ids {
		binary.LittleEndian.PutUint64(buf[:], uint64(id))
		h.Write(buf[:])
		h.Write([]byte(groups[i]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TrainerStore is what a Trainer needs from the database.
type TrainerStore interface {
	// TrainingLabels returns the ids and group keys of the workspace's
	// chunks of model whose group key starts with parley.IntentGroupPrefix, by id.
	TrainingLabels(ctx context.Context, workspaceID, model string) (ids []int64, groups []string, err error)
	// TrainingExamples streams the same chunks, with their vectors, by id.
	TrainingExamples(ctx context.Context, workspaceID, model string, fn func(Example) error) error
	// ClassifierHash returns the DataHash of the stored classifier, or
	// false when there is none.
	ClassifierHash(ctx context.Context, workspaceID, model string) (string, bool, error)
	SaveClassifier(ctx context.Context, workspaceID, model string, c *Classifier) error
	DeleteClassifier(ctx context.Context, workspaceID, model string) error
}

// Trainer (re)trains workspaces' intent classifiers from their stored
// knowledge. Trainings run one at a time: each uses a core fully.
type Trainer struct {
	store TrainerStore
	opts  TrainOptions
	mu    sync.Mutex
}

// NewTrainer returns a trainer over store.
func NewTrainer(store TrainerStore, opts TrainOptions) *Trainer {
	return &Trainer{store: store, opts: opts.withDefaults()}
}

// TrainResult says what Train did.
type TrainResult struct {
	// Status is "trained", "unchanged" (the stored classifier was trained
	// on the same data) or "none" (fewer than two intents with enough
	// examples: any stored classifier was deleted).
	Status   string
	Classes  int
	Examples int
	Elapsed  time.Duration // of the fit alone
}

// Train statuses.
const (
	TrainTrained   = "trained"
	TrainUnchanged = "unchanged"
	TrainNone      = "none"
)

// String describes the result for a person.
func (r TrainResult) String() string {
	switch r.Status {
	case TrainTrained:
		return fmt.Sprintf("intent classifier: %d classes from %d examples, trained in %.1f s", r.Classes, r.Examples, r.Elapsed.Seconds())
	case TrainUnchanged:
		return fmt.Sprintf("intent classifier: unchanged (%d labelled examples)", r.Examples)
	}
	return "intent classifier: none (the knowledge has fewer than two intents with enough labelled examples)"
}

// Train fits the classifier of a workspace's vectors of model to its
// labelled chunks and stores it, unless the stored one was trained on the
// same data. With fewer than two classes it deletes the stored one.
func (t *Trainer) Train(ctx context.Context, workspaceID, model string) (TrainResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids, groups, err := t.store.TrainingLabels(ctx, workspaceID, model)
	if err != nil {
		return TrainResult{}, err
	}
	if !enoughClasses(groups, t.opts.MinExamples) {
		return TrainResult{Status: TrainNone, Examples: len(ids)}, t.store.DeleteClassifier(ctx, workspaceID, model)
	}
	old, ok, err := t.store.ClassifierHash(ctx, workspaceID, model)
	if err != nil {
		return TrainResult{}, err
	}
	if ok && old == TrainingHash(ids, groups, t.opts) {
		return TrainResult{Status: TrainUnchanged, Examples: len(ids)}, nil
	}
	// Load again with the vectors: the hash stored is that of what was
	// actually learned, should an ingest have changed the data meanwhile.
	var examples []Example
	err = t.store.TrainingExamples(ctx, workspaceID, model, func(e Example) error {
		examples = append(examples, e)
		return nil
	})
	if err != nil {
		return TrainResult{}, err
	}
	ids, groups = ids[:0], groups[:0]
	for _, e := range examples {
		ids, groups = append(ids, e.ID), append(groups, e.Group)
	}
	start := time.Now()
	c, err := TrainClassifier(examples, t.opts)
	elapsed := time.Since(start)
	if errors.Is(err, ErrTooFewClasses) {
		return TrainResult{Status: TrainNone, Examples: len(examples)}, t.store.DeleteClassifier(ctx, workspaceID, model)
	}
	if err != nil {
		return TrainResult{}, err
	}
	c.DataHash = TrainingHash(ids, groups, t.opts)
	if err := t.store.SaveClassifier(ctx, workspaceID, model, c); err != nil {
		return TrainResult{}, err
	}
	return TrainResult{Status: TrainTrained, Classes: len(c.Classes), Examples: c.Examples, Elapsed: elapsed}, nil
}

// enoughClasses reports whether at least two groups have min examples.
func enoughClasses(groups []string, min int) bool {
	counts := map[string]int{}
	n := 0
	for _, g := range groups {
		counts[g]++
		if counts[g] == min {
			n++
		}
	}
	return n >= 2
}

// ClassifierSource reads stored classifiers.
type ClassifierSource interface {
	// ClassifierVersion returns the version of the stored classifier of a
	// workspace and model, or false when there is none.
	ClassifierVersion(ctx context.Context, workspaceID, model string) (int64, bool, error)
	// Classifier returns the stored classifier, or nil when there is none.
	Classifier(ctx context.Context, workspaceID, model string) (*Classifier, error)
}

// ClassifierCache keeps the workspaces' classifiers in memory. Get asks
// the source for the stored classifier's version at most once per
// interval per workspace, and loads the model again only when the version
// changed: a retrained model reaches every replica within the interval,
// and until then the previous one keeps serving.
type ClassifierCache struct {
	src      ClassifierSource
	interval time.Duration
	mu       sync.Mutex
	entries  map[string]*cachedClassifier // workspace id + "/" + model
}

type cachedClassifier struct {
	c       *Classifier // nil: none stored
	version int64
	checked time.Time
}

// NewClassifierCache returns a cache over src that checks for retrained
// classifiers at most every interval (default 5 s).
func NewClassifierCache(src ClassifierSource, interval time.Duration) *ClassifierCache {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &ClassifierCache{src: src, interval: interval, entries: map[string]*cachedClassifier{}}
}

// Get returns the classifier of a workspace's vectors of model, or nil when
// it has none.
func (cc *ClassifierCache) Get(ctx context.Context, workspaceID, model string) (*Classifier, error) {
	key := workspaceID + "/" + model
	cc.mu.Lock()
	e, ok := cc.entries[key]
	if ok && time.Since(e.checked) < cc.interval {
		cc.mu.Unlock()
		return e.c, nil
	}
	cc.mu.Unlock()

	version, exists, err := cc.src.ClassifierVersion(ctx, workspaceID, model)
	if err != nil {
		return nil, err
	}
	next := &cachedClassifier{version: version, checked: time.Now()}
	switch {
	case !exists:
	case ok && e.c != nil && e.version == version:
		next.c = e.c
	default:
		if next.c, err = cc.src.Classifier(ctx, workspaceID, model); err != nil {
			return nil, err
		}
		if next.c != nil {
			next.version = next.c.Version
		}
	}
	cc.mu.Lock()
	cc.entries[key] = next
	cc.mu.Unlock()
	return next.c, nil
}
