package prompts

import (
	"fmt"

	"github.com/parleyhq/parley/llm"
)

// maxTurns is the most conversation turns a prompt shows, and maxTurnTokens
// the most tokens of any one turn.
const (
	maxTurns      = 40
	maxTurnTokens = 1500
)

// fitted is the prompt fitTurns settled on: the turns it kept, the prompt
// rendered with them, and that prompt's tokens.
type fitted struct {
	turns  []Turn
	msgs   []llm.Message
	tokens int
}

// fitTurns returns the latest turns for which the prompt render makes of
// them takes at most budget tokens, with that prompt and its count. At least
// the last turn is kept, truncated if it alone is too long. Turns are
// dropped oldest first, as many at a time as their own token counts say are
// over, then rendered again: a couple of renderings, not one per turn.
func (r *Renderer) fitTurns(turns []Turn, budget int, render func([]Turn) ([]llm.Message, error)) (fitted, error) {
	if len(turns) > maxTurns {
		turns = turns[len(turns)-maxTurns:]
	}
	kept := make([]Turn, len(turns))
	cost := make([]int, len(turns))
	for i, t := range turns {
		t.Text = r.tok.Truncate(t.Text, maxTurnTokens)
		kept[i] = t
		cost[i] = r.tok.Count(t.Text) + turnOverhead
	}
	for {
		msgs, err := render(kept)
		if err != nil {
			return fitted{}, err
		}
		n := r.tok.CountMessages(msgs)
		if n <= budget {
			return fitted{turns: kept, msgs: msgs, tokens: n}, nil
		}
		if len(kept) > 1 {
			drop, over := 0, n-budget
			for drop < len(kept)-1 && over > 0 {
				over -= cost[drop]
				drop++
			}
			kept, cost = kept[drop:], cost[drop:]
			continue
		}
		if len(kept) == 0 {
			return fitted{}, fmt.Errorf("prompt without conversation takes %d tokens, more than the %d it may", n, budget)
		}
		// One turn, too long: cut it to what is left.
		text := kept[0].Text
		cut := r.tok.Truncate(text, r.tok.Count(text)-(n-budget)-8)
		if cut == "" || cut == text {
			return fitted{}, r.tooLong("the last message", r.tok.Count(text))
		}
		kept = []Turn{{Role: kept[0].Role, Text: cut}}
		cost = []int{r.tok.Count(cut) + turnOverhead}
	}
}

// turnOverhead is about what a turn's data block adds to its text.
const turnOverhead = 24

// minKnowledgeTokens is the smallest piece of knowledge worth packing.
const minKnowledgeTokens = 48

// packKnowledge picks knowledge in order of relevance while it fits in
// budget tokens, skipping pieces too large for what is left. When not even
// the most relevant piece fits, it is truncated to the room there is.
func (r *Renderer) packKnowledge(nonce string, items []Knowledge, budget int) []Knowledge {
	var out []Knowledge
	for _, k := range items {
		block := fence(nonce, fmt.Sprintf("knowledge source=%d", k.SourceID), titled(k.Title, k.Text))
		cost := r.tok.Count(block) + 2 // the blank lines around it
		if cost <= budget {
			out = append(out, k)
			budget -= cost
			continue
		}
		if len(out) == 0 && budget >= minKnowledgeTokens {
			overhead := cost - r.tok.Count(k.Text)
			if keep := budget - overhead - 4; keep >= minKnowledgeTokens/2 {
				k.Text = r.tok.Truncate(k.Text, keep)
				out = append(out, k)
				budget = 0
			}
		}
	}
	return out
}
