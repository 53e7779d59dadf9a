package retrieval

import (
	"math"
	"slices"
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
	Score      float64     `json:"score"`           // the group's share of the vote (mixed with Prior when set), in [0,1]
	Prior      float64     `json:"prior,omitempty"` // the intent classifier's probability, when there is one
	Similarity float64     `json:"similarity"`      // best cosine similarity among its hits
	Hits       int         `json:"hits"`
	Sources    []SourceRef `json:"sources"`
}

// SourceRef is a source an answer cites.
type SourceRef struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
	Title      string `json:"title,omitempty"`
	URL        string `json:"url,omitempty"`
	// Section is where in the source the answer is: an article's section
	// path, "Returns > Page 3" for a PDF.
	Section string  `json:"section,omitempty"`
	Score   float64 `json:"score"`
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

// The vote's constants.
const (
	// neighbours is how many nearest hits vote.
	neighbours = 10
	// textWeight scales the full-text retriever's votes against the
	// vector retriever's.
	textWeight = 0.6
	// maxSources is how many sources a candidate cites.
	maxSources = 3
	// priorWeight is the classifier's part of a known group's score (see
	// RankOptions.Prior).
	priorWeight = 0.6
)

// RankOptions are the inputs of the vote beyond the hits.
type RankOptions struct {
	// Prior, when set, is an intent classifier's probability of each
	// answer group it knows (Classifier.Prior). The vote share those groups
	// won together is then shared out again: a group's score becomes
	// (1-priorWeight) × its vote share + priorWeight × that total × its
	// probability. Groups the classifier does not know (articles, intents
	// too rare to learn) keep their vote share, and a known group the
	// vote missed becomes a candidate if any hit, here or in PriorHits,
	// can speak for it.
	Prior map[string]float64
	// PriorHits are hits of groups in Prior that the search did not
	// return (the store's nearest chunk of each): they give such a
	// candidate its answer, sources and similarity, but do not vote.
	PriorHits []parley.Hit
}

// Rank groups hits by the answer they lead to and scores each group by a
// similarity-weighted vote of the nearest hits, plus a smaller reciprocal
// rank vote from full-text search, mixed with the intent classifier's
// probabilities when opts.Prior is set.
func Rank(hits []parley.Hit, opts RankOptions) Ranking {
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
	top := 0.0
	for i, h := range byVector {
		if i >= neighbours {
			break
		}
		w := voteWeight(h.Similarity)
		top = math.Max(top, w)
		vote(h, w)
	}
	// Full-text hits vote on the vector votes' scale: the first counts
	// textWeight times the nearest neighbour, the next ones less.
	for _, h := range hits {
		if h.TextRank > 0 && h.TextRank <= neighbours {
			vote(h, textWeight*top/float64(h.TextRank))
		}
	}
	if total > 0 {
		for _, c := range groups {
			c.Score /= total
		}
	}
	all := byVector
	if len(opts.PriorHits) > 0 {
		all = append(slices.Clip(byVector), opts.PriorHits...)
		sort.SliceStable(all, func(i, j int) bool { return all[i].Similarity > all[j].Similarity })
	}
	if opts.Prior != nil {
		order = mixPrior(groups, order, all, opts)
	}
	// Answers, citations and best similarity come from every hit of the
	// group, nearest first.
	for _, h := range all {
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
		if len(c.Sources) < maxSources && !citesSource(c.Sources, h.SourceID) {
			c.Sources = append(c.Sources, SourceRef{ID: h.SourceID, ExternalID: h.ExternalID, Title: h.Title, URL: h.URL, Section: h.SectionPath, Score: round3(h.Similarity)})
		}
	}
	out := make([]Candidate, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return Ranking{Candidates: out, Confidence: confidence(out)}
}

// mixPrior mixes the classifier's probabilities into the vote shares of the
// groups it knows and adds the known groups the vote missed that some hit
// belongs to (in name order, so that ties break the same way every time).
// It returns the groups' new order.
func mixPrior(groups map[string]*Candidate, order []string, hits []parley.Hit, opts RankOptions) []string {
	mass := 0.0 // the vote share of the groups the classifier knows
	for _, g := range order {
		if _, ok := opts.Prior[g]; ok {
			mass += groups[g].Score
		}
	}
	known := make([]string, 0, len(opts.Prior))
	for g := range opts.Prior {
		known = append(known, g)
	}
	sort.Strings(known)
	for _, g := range known {
		c, ok := groups[g]
		if !ok {
			i := slices.IndexFunc(hits, func(h parley.Hit) bool { return h.GroupKey == g })
			if i < 0 {
				continue
			}
			h := hits[i]
			c = &Candidate{GroupKey: g, Intent: h.Intent, Tags: h.Tags, Kind: h.Kind, Similarity: -1}
			groups[g] = c
			order = append(order, g)
		}
		p := opts.Prior[g]
		c.Prior = round3(p)
		c.Score = (1-priorWeight)*c.Score + priorWeight*mass*p
	}
	return order
}

// voteWeight makes near neighbours count much more than far ones.
func voteWeight(sim float64) float64 {
	if sim <= 0 {
		return 0
	}
	return math.Pow(sim, 4)
}

// confidence estimates how likely the top candidate is right: a logistic
// function of how much of the vote it won, its margin over the runner-up,
// how close its best hit is, and how much closer than the runner-up's best
// hit. The weights were fitted on the outcomes of the Banking77 and sample
// eval suites (see BENCHMARKS.md); each workspace then calibrates its own
// threshold on this scale with parley eval --calibrate.
func confidence(cands []Candidate) float64 {
	if len(cands) == 0 {
		return 0
	}
	top := cands[0]
	margin, gap := top.Score, math.Max(top.Similarity, 0)
	if len(cands) > 1 {
		margin -= cands[1].Score
		gap -= math.Max(cands[1].Similarity, 0)
	}
	z := -2.9 + 2.6*top.Score + 2.6*margin + 1.8*math.Max(top.Similarity, 0) + 3.9*gap
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
