package analytics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// Embedder turns texts into vectors (retrieval.Embedder).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// TopicSimilarity is the cosine similarity to a topic's first question at
// which a question joins that topic. With the local embedder, paraphrases
// ("where is my parcel", "my parcel has not arrived yet") score about 0.5-0.6
// and unrelated questions below 0.15.
const TopicSimilarity = 0.4

// Topic is a group of similar questions the bot could not answer.
type Topic struct {
	Count     int            `json:"count"`
	Examples  []string       `json:"examples"` // up to 5 different ones, newest first
	Languages map[string]int `json:"languages"`
	Reasons   map[string]int `json:"reasons"`
	// Nearest is the existing knowledge the bot found closest most often
	// ("" for none), with its best similarity.
	Nearest           string  `json:"nearest_knowledge"`
	NearestSimilarity float64 `json:"nearest_similarity"`
	// Draft is a FAQ entry to write: the topic's first question, and the
	// newest agent reply that resolved one of its questions as the answer
	// ("" when none was resolved yet). Edit it and upload it as a record.
	Draft Draft     `json:"draft"`
	Last  time.Time `json:"last_asked"`

	vec     []float32
	nearest map[string]int
}

// Draft is a proposed FAQ entry.
type Draft struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Language string `json:"language"`
}

// Gaps groups unanswered questions (newest first) into topics by
// similarity, most frequent topic first.
func Gaps(ctx context.Context, e Embedder, qs []parley.UnansweredQuestion) ([]Topic, error) {
	if len(qs) == 0 {
		return []Topic{}, nil
	}
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Text
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed unanswered questions: %w", err)
	}
	var topics []*Topic
	for i, q := range qs {
		v := vecs[i]
		retrieval.NormaliseL2(v)
		var best *Topic
		bestSim := TopicSimilarity
		for _, t := range topics {
			if s := dot(v, t.vec); s >= bestSim {
				best, bestSim = t, s
			}
		}
		if best == nil {
			best = &Topic{vec: v, Languages: map[string]int{}, Reasons: map[string]int{}, nearest: map[string]int{},
				Draft: Draft{Question: q.Text, Language: q.Language}, Last: q.At}
			topics = append(topics, best)
		}
		best.add(q)
	}
	out := make([]Topic, len(topics))
	for i, t := range topics {
		t.finish()
		out[i] = *t
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out, nil
}

func (t *Topic) add(q parley.UnansweredQuestion) {
	t.Count++
	if len(t.Examples) < 5 && !slices.Contains(t.Examples, q.Text) {
		t.Examples = append(t.Examples, q.Text)
	}
	t.Languages[q.Language]++
	t.Reasons[q.Reason]++
	if q.Nearest != "" {
		t.nearest[q.Nearest]++
		if q.NearestSimilarity > t.NearestSimilarity {
			t.NearestSimilarity = q.NearestSimilarity
		}
	}
	if t.Draft.Answer == "" && q.Resolution != "" {
		t.Draft.Answer = q.Resolution
	}
}

func (t *Topic) finish() {
	best := 0
	for name, n := range t.nearest {
		if n > best || (n == best && name < t.Nearest) {
			t.Nearest, best = name, n
		}
	}
	t.NearestSimilarity = math.Round(t.NearestSimilarity*1000) / 1000
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}
