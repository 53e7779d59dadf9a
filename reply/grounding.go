package reply

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// Answer and suggestion kinds.
const (
	KindKnowledge = "knowledge" // an answer from the knowledge, as written
	KindGenerated = "generated" // a draft by the chat model, grounded in the knowledge
)

// Generation statuses: what became of the generated draft.
const (
	GenPending     = "pending"      // the model is still writing (stream only)
	GenGenerated   = "generated"    // the draft is the first suggestion
	GenNoModel     = "no_model"     // no chat model is configured
	GenNoKnowledge = "no_knowledge" // nothing retrieved to ground a draft in
	GenNoAnswer    = "no_answer"    // the model found no answer in the knowledge
	GenDropped     = "dropped"      // the draft cited no source, or one not retrieved
	GenFailed      = "failed"       // the model failed or timed out
)

// Generation says what became of the generated draft.
type Generation struct {
	Status string           `json:"status"`
	Reason string           `json:"reason,omitempty"`
	Error  *GenerationError `json:"error,omitempty"` // when Status is failed
}

// GenerationError is why the chat model failed, with its error code
// (unavailable, timeout, invalid).
type GenerationError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Grounder writes an answer from retrieved knowledge with a chat model
// (assist.Drafter, when a model is configured).
type Grounder interface {
	Ground(ctx context.Context, transcript []parley.Message, lang string, cands []retrieval.Candidate) (*Answer, Generation, error)
}

// UsableCandidates are the candidates close enough to the question to
// suggest or to ground a draft in.
func UsableCandidates(r retrieval.Ranking) []retrieval.Candidate {
	var out []retrieval.Candidate
	seen := map[string]bool{}
	for _, c := range r.Candidates {
		ans := strings.TrimSpace(c.Answer)
		if ans == "" || c.Similarity < DefaultMinSimilarity || len(c.Sources) == 0 || seen[ans] {
			continue
		}
		seen[ans] = true
		out = append(out, c)
	}
	return out
}

// CheckText validates a text given to the engine or an assist task: valid
// UTF-8, not blank, at most max characters.
func CheckText(field, text string, max int) error {
	if !utf8.ValidString(text) {
		return parley.Errorf(parley.EInvalid, "%s is not valid UTF-8", field)
	}
	if strings.TrimSpace(text) == "" {
		return parley.Errorf(parley.EInvalid, "%s is empty", field)
	}
	if n := utf8.RuneCountInString(text); n > max {
		return parley.Errorf(parley.ETooLarge, "%s has %d characters; the limit is %d", field, n, max)
	}
	return nil
}
