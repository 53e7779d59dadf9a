package retrieval

import (
	"context"
	"fmt"
	"math"
)

// LocalModel is the Model() of the offline embedder. It names the feature
// set: any change to tokenisation, tables (local_tables.go,
// localdata/stemfreq.txt), weights, hashing or dimensions changes the
// vectors, so it must change this name (local-v2, ...), and vectors stored
// under the old name must be re-embedded.
const LocalModel = "local-v1"

// Local is the offline default Embedder: a "hashing trick" bag of features in
// pure Go. No model, no network, no state: a text's vector depends only on
// that text, so vectors stored at ingest stay comparable with query vectors
// made later. It is safe for concurrent use.
//
// Each text is normalised (Unicode compatibility forms, lower case, accents
// dropped from Latin letters), cut into words, and each word gets a weight,
// the built-in stand-in for IDF (a stateless embedder cannot count documents):
// function words weigh little, question words and negations more, common
// verbs a half, other words by their frequency in general English
// (localdata/stemfreq.txt), rare words 1. Features, each added as a
// sign-hashed ±weight to one dimension:
//
//   - word: the word's Snowball English stem after synonym folding, so that
//     "refunds", "refunding" and "reimbursement" meet;
//   - bigram: two neighbouring content words (function words skipped), for
//     phrases that a bag of words loses ("exchange rate", "card payment");
//   - char: the character 2- to 5-grams of the word with boundary marks
//     ("<p", "<pa", "pas", ...), so that typos and unknown inflections still
//     share most of their features with the right word.
//
// The vector is then L2-normalised. Measured on Banking77 (see
// local_quality_test.go): stop-word weighting is worth most (about +8 points
// of 10-NN vote), then char n-grams (+2 to 3), the general-English IDF
// (+3 points of answered-at-95%-precision), synonyms and bigrams (+0.5 each).
type Local struct {
	cfg localConfig
}

// localConfig holds the weights of the feature families. They are fixed for
// a model name; the zero value is not useful, start from defaultLocalConfig.
// A family with weight 0 is off.
type localConfig struct {
	dims int // hashed dimensions (pgvector HNSW takes up to 2000)

	wordWeight   float64 // stem unigram
	bigramWeight float64 // neighbouring content stems
	charWeight   float64 // all char n-grams of one word together
	minN, maxN   int     // char n-gram lengths in runes, boundary marks included

	stopWeight   float64 // function words (the, my, to, ...): localStopWords
	cueWeight    float64 // question words and negations (why, not, ...): localCueWords
	commonWeight float64 // common verbs and vague words (get, need, ...): localCommonWords
	numWeight    float64 // numbers
	idfScale     float64 // other words: log(total/count)/idfScale from stemfreq.txt
	idfFloor     float64 // smallest such weight

	synonyms bool // fold customer-support synonyms (localSynonyms) to one stem

	// wordnetWeight, when above 0, adds each content word's WordNet
	// synonyms (localdata/wordnet-synonyms.txt) as word features at this
	// share of the word's weight. Off in LocalModel: measured, it did not
	// help (BENCHMARKS.md).
	wordnetWeight float64
}

// defaultLocalConfig is the configuration of LocalModel. The weights were
// chosen on a dev split of Banking77 train (local_variants_test.go).
func defaultLocalConfig() localConfig {
	return localConfig{
		dims:         1024,
		wordWeight:   1.0,
		bigramWeight: 0.6,
		charWeight:   1.5,
		minN:         2,
		maxN:         5,
		stopWeight:   0.4,
		cueWeight:    0.6,
		commonWeight: 0.5,
		numWeight:    0.5,
		idfScale:     10,
		idfFloor:     0.4,
		synonyms:     true,
	}
}

// NewLocal returns the offline default embedder (model LocalModel).
func NewLocal() *Local {
	return &Local{cfg: defaultLocalConfig()}
}

// Model implements Embedder.
func (l *Local) Model() string { return LocalModel }

// Dimensions implements Embedder.
func (l *Local) Dimensions() int { return l.cfg.dims }

// Embed implements Embedder. It fails only when ctx is done; the result has
// one vector per text, in order. A text with no features (empty, only spaces
// or punctuation) gets a fixed unit vector, the same for all such texts, never
// a zero vector: pgvector's cosine distance with a zero vector is NaN.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("local embed: %w", err)
		}
		out[i] = l.embedOne(text)
	}
	return out, nil
}

// embedOne turns one text into a unit vector.
func (l *Local) embedOne(text string) []float32 {
	vec := make([]float32, l.cfg.dims)
	words := localWords(text, l.cfg)
	for i := range words {
		l.addWord(vec, words, i)
	}
	if !NormaliseL2(vec) {
		clear(vec)
		vec[localHash(localFamEmpty, "", "")%uint64(len(vec))] = 1
	}
	return vec
}

// addWord adds the features of words[i]: its stem, its bigram with the
// previous content word, and its character n-grams, all scaled by the word's
// weight.
func (l *Local) addWord(vec []float32, words []localWord, i int) {
	w := words[i]
	l.addFeature(vec, localFamWord, w.term, "", l.cfg.wordWeight*w.weight)
	if l.cfg.wordnetWeight > 0 && w.weight > l.cfg.stopWeight {
		for _, s := range localWordNetStems()[w.term] {
			l.addFeature(vec, localFamWord, s, "", l.cfg.wordnetWeight*l.cfg.wordWeight*w.weight)
		}
	}
	if l.cfg.bigramWeight > 0 && w.weight > l.cfg.stopWeight {
		if j := localPreviousContent(words, i, l.cfg.stopWeight); j >= 0 {
			p := words[j]
			l.addFeature(vec, localFamBigram, p.term, w.term, l.cfg.bigramWeight*math.Sqrt(p.weight*w.weight))
		}
	}
	if l.cfg.charWeight > 0 {
		l.addCharGrams(vec, w, l.cfg.charWeight*w.weight)
	}
}

// localPreviousContent returns the index of the nearest word before i that is
// not a function word (weight above stopWeight), or -1. Skipping function
// words makes "card has not arrived" give "card not" and "not arriv".
func localPreviousContent(words []localWord, i int, stopWeight float64) int {
	for j := i - 1; j >= 0; j-- {
		if words[j].weight > stopWeight {
			return j
		}
	}
	return -1
}

// addCharGrams adds the n-grams of "<word>" for n in [minN, maxN]. Each gets
// weight/sqrt(count), so that the n-grams of a word together weigh about the
// same whatever its length. Scripts written without spaces (CJK, Thai) use
// 1- to 3-grams, since there a "word" is a whole phrase.
func (l *Local) addCharGrams(vec []float32, w localWord, weight float64) {
	minN, maxN := l.cfg.minN, l.cfg.maxN
	if w.cjk {
		minN, maxN = 1, 3
	}
	marked := "<" + w.text + ">"
	// starts holds the byte offset of every rune, then the end.
	starts := make([]int, 0, len(marked)+1)
	for off := range marked {
		starts = append(starts, off)
	}
	starts = append(starts, len(marked))
	runes := len(starts) - 1

	count := 0
	for n := minN; n <= maxN; n++ {
		count += max(runes-n+1, 0)
	}
	if count == 0 {
		return
	}
	each := weight / math.Sqrt(float64(count))
	for n := minN; n <= maxN; n++ {
		for s := 0; s+n <= runes; s++ {
			l.addFeature(vec, localFamChar, marked[starts[s]:starts[s+n]], "", each)
		}
	}
}

// Feature families: a hash seed each, so that the word "card" and the
// char-gram "card" land in different dimensions.
const (
	localFamWord byte = iota + 1
	localFamBigram
	localFamChar
	localFamEmpty
)

// addFeature adds ±weight to the dimension the feature hashes to. The sign
// comes from another bit of the same hash, so collisions cancel out on
// average instead of piling up (signed feature hashing, Weinberger et al.
// 2009).
func (l *Local) addFeature(vec []float32, family byte, a, b string, weight float64) {
	h := localHash(family, a, b)
	idx := (h >> 1) % uint64(len(vec))
	if h&1 == 1 {
		weight = -weight
	}
	vec[idx] += float32(weight)
}

// localHash is FNV-1a over family, a, a separator and b, then the SplitMix64
// finaliser so that every bit is well mixed. It is part of the model:
// changing it changes every vector.
func localHash(family byte, a, b string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	h = (h ^ uint64(family)) * prime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * prime
	}
	h = (h ^ 0xff) * prime // 0xff never occurs in UTF-8
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// NormaliseL2 scales vec to unit length in place. It reports false, and
// leaves vec as it was, when vec has no direction to keep: all zeros, or a
// norm that is not finite.
func NormaliseL2(vec []float32) bool {
	var sum float64
	for _, x := range vec {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range vec {
		vec[i] = float32(float64(x) * inv)
	}
	return true
}

var _ Embedder = (*Local)(nil)
