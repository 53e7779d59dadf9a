package evals

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/ingest"
)

// knowledgeLabels is what a suite's knowledge lets cases expect.
type knowledgeLabels struct {
	intents map[string]bool // lower-cased: cases match intents in any case
	sources map[string]bool // external ids
	answers bool            // some document has an answer text or a body
}

func labelsOf(docs []ingest.Document) knowledgeLabels {
	k := knowledgeLabels{intents: map[string]bool{}, sources: map[string]bool{}}
	for _, d := range docs {
		if d.Intent != "" {
			k.intents[strings.ToLower(d.Intent)] = true
		}
		k.sources[d.ExternalID] = true
		if strings.TrimSpace(d.Answer) != "" || strings.TrimSpace(d.Body) != "" {
			k.answers = true
		}
	}
	return k
}

// unknown lists the expected intents and source ids of in-scope cases
// that the knowledge does not have, in case order.
func (k knowledgeLabels) unknown(cases []Case) []UnknownLabel {
	var out []UnknownLabel
	for _, c := range cases {
		if !c.inScope() {
			continue
		}
		if c.Intent != "" && !k.intents[strings.ToLower(c.Intent)] {
			out = append(out, UnknownLabel{Case: c.ID, Label: "intent " + c.Intent})
		}
		for _, id := range c.SourceIDs {
			if !k.sources[id] {
				out = append(out, UnknownLabel{Case: c.ID, Label: "source " + id})
			}
		}
	}
	return out
}

// unknownLabelsShown is how many unknown labels an error names.
const unknownLabelsShown = 10

func unknownLabelsError(unknown []UnknownLabel) error {
	var names []string
	for _, u := range unknown[:min(len(unknown), unknownLabelsShown)] {
		names = append(names, fmt.Sprintf("case %s expects %s", u.Case, u.Label))
	}
	more := ""
	if n := len(unknown) - unknownLabelsShown; n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return fmt.Errorf("%d expected answers are not in the suite's knowledge, so those cases can never be right: %s%s; fix the cases or the knowledge, or allow them (parley eval --allow-unknown-labels)",
		len(unknown), strings.Join(names, "; "), more)
}
