package retrieval

import (
	"math"
	"sort"

	"github.com/parleyhq/parley"
)

// Candidate is one answer a question may lead to: the hits of one group
// (an intent, or a single source) voting together.
type Candidate struct {
	GroupKey   string      `json:"group"`
	Answer     string      `json:"answer"`
	Intent     string      `json:"intent,omitempty"`
	Tags       []string    `json:"tags,omitempty"`
	Kind       string      `json:"kind"`
	Score      float64     `json:"score"`      // the group's share of the vote, in [0,1]
	Similarity float64     `json:"similarity"` // best cosine similarity among its hits
	Hits       int         `json:"hits"`
	Sources    []SourceRef `json:"sources"`
}

// SourceRef is a source an answer cites.
type SourceRef struct {
	ID         int64   `json:"id"`
	ExternalID string  `json:"external_id"`
	Title      string  `json:"title,omitempty"`
	URL        string  `json:"url,omitempty"`
	Score      float64 `json:"score"`
}

// Ranking is the candidates for one question, best first, and the
// confidence that the first is right.
type Ranking struct {
	Candidates []Candidate `json:"candidates"`
	Confidence float64     `json:"confidence"`
}

// Top returns the best candidate, or false when there is none.
func (r Ranking) Top() (Candidate, bool) {
	if len(r.Candidates) == 0 {
		return Candidate{}, false
	}
	return r.Candidates[0], true
}

// RankOptions tune the vote.
type RankOptions struct {
	// Neighbours is how many nearest hits vote (default 10).
	Neighbours int
	// TextWeight scales the full-text retriever's votes against the vector
	// retriever's (default 0.3).
	TextWeight float64
	// MaxSources is how many sources a candidate cites (default 3).
	MaxSources int
}

func (o RankOptions) withDefaults() RankOptions {
	if o.Neighbours <= 0 {
		o.Neighbours = 10
	}
	if o.TextWeight == 0 {
		o.TextWeight = 0.3
	}
	if o.MaxSources <= 0 {
		o.MaxSources = 3
	}
	return o
}

// Rank groups hits by the answer they lead to and scores each group by a
// similarity-weighted vote of the nearest hits, plus a smaller reciprocal
// rank vote from full-text search.
func Rank(hits []parley.Hit, opts RankOptions) Ranking {
	opts = opts.withDefaults()
	byVector := append([]parley.Hit(nil), hits...)
	sort.SliceStable(byVector, func(i, j int) bool { return byVector[i].Similarity > byVector[j].Similarity })

	groups := map[string]*Candidate{}
	var order []string
	total := 0.0
	vote := func(h parley.Hit, w float64) {
		c, ok := groups[h.GroupKey]
		if !ok {
			c = &Candidate{GroupKey: h.GroupKey, Intent: h.Intent, Tags: h.Tags, Kind: h.Kind, Similarity: -1}
			groups[h.GroupKey] = c
			order = append(order, h.GroupKey)
		}
		c.Score += w
		total += w
	}
	for i, h := range byVector {
		if i >= opts.Neighbours {
			break
		}
		vote(h, voteWeight(h.Similarity))
	}
	for _, h := range hits {
		if h.TextRank > 0 && h.TextRank <= opts.Neighbours {
			vote(h, opts.TextWeight/float64(h.TextRank+1))
		}
	}
	// Answers, citations and best similarity come from every hit of the
	// group, nearest first.
	for _, h := range byVector {
		c, ok := groups[h.GroupKey]
		if !ok {
			continue
		}
		c.Hits++
		if h.Similarity > c.Similarity {
			c.Similarity = h.Similarity
		}
		if c.Answer == "" && h.Answer != "" {
			c.Answer = h.Answer
		}
		if len(c.Sources) < opts.MaxSources && !citesSource(c.Sources, h.SourceID) {
			c.Sources = append(c.Sources, SourceRef{ID: h.SourceID, ExternalID: h.ExternalID, Title: h.Title, URL: h.URL, Score: round3(h.Similarity)})
		}
	}
	out := make([]Candidate, 0, len(order))
	for _, k := range order {
		c := groups[k]
		if total > 0 {
			c.Score /= total
		}
		out = append(out, *c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return Ranking{Candidates: out, Confidence: confidence(out)}
}

// voteWeight makes near neighbours count much more than far ones.
func voteWeight(sim float64) float64 {
	if sim <= 0 {
		return 0
	}
	return sim * sim * sim
}

// confidence estimates how likely the top candidate is right from how much
// of the vote it won, how close its best hit is, and its margin over the
// runner-up. The weights were fitted on Banking77 (see BENCHMARKS.md); each
// workspace then picks its threshold on this scale with parley eval.
func confidence(cands []Candidate) float64 {
	if len(cands) == 0 {
		return 0
	}
	top := cands[0]
	margin := top.Score
	if len(cands) > 1 {
		margin -= cands[1].Score
	}
	z := -6.0 + 4.0*top.Score + 3.0*margin + 5.0*math.Max(top.Similarity, 0)
	return round3(1 / (1 + math.Exp(-z)))
}

func citesSource(refs []SourceRef, id int64) bool {
	for _, r := range refs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
