package ingest

import (
	"fmt"
	"strings"
)

// MaxQuestionBytes is the longest question a FAQ entry may have. Only the
// first MaxTokens tokens of a question are searched, so a longer one can
// only be a mistake (a file whose columns did not split).
const MaxQuestionBytes = 16 << 10

// collector gathers the documents of one upload: it enforces the record
// limit and rejects two documents with the same ExternalID, naming both.
type collector struct {
	maxRecords int
	docs       []Document
	seen       map[string]int // ExternalID → index in docs
	report     LoadReport
}

func newCollector(opts LoadOptions) *collector {
	return &collector{maxRecords: opts.MaxRecords, seen: make(map[string]int)}
}

func (c *collector) add(d Document) error {
	if d.Kind == KindFAQ && len(d.Question) > MaxQuestionBytes {
		return inputErrorf(d.Origin, "question", "%d bytes, over the limit of %d: a question is a sentence or a short paragraph; put long text in the answer or an article",
			len(d.Question), MaxQuestionBytes)
	}
	if i, ok := c.seen[d.ExternalID]; ok {
		prev := c.docs[i]
		// The same question asked twice with the same answer is harmless:
		// keep the first. Anything else would silently overwrite an entry.
		if strings.HasPrefix(d.ExternalID, "faq:") && d.Kind == prev.Kind && d.Answer == prev.Answer {
			c.report.skip(d.Origin, "repeats the entry at %s", prev.Origin)
			return nil
		}
		return duplicateError(d, prev)
	}
	if len(c.docs) >= c.maxRecords {
		return &InputError{
			Origin: d.Origin,
			Msg:    fmt.Sprintf("too many records: the limit is %d per upload", c.maxRecords),
			Err:    ErrTooMany,
		}
	}
	c.seen[d.ExternalID] = len(c.docs)
	c.docs = append(c.docs, d)
	c.report.Documents++
	return nil
}

func duplicateError(d, prev Document) error {
	switch {
	case d.Kind == KindArticle:
		return inputErrorf(d.Origin, "", "the same path appears twice in the upload")
	case strings.HasPrefix(d.ExternalID, "faq:"):
		return inputErrorf(d.Origin, "question", "same question and intent as %s but a different answer; give the entries distinct ids or merge them", prev.Origin)
	default:
		return inputErrorf(d.Origin, "id", "duplicate id %q (also at %s)", d.ExternalID, prev.Origin)
	}
}
