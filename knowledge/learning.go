package knowledge

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/reply"
)

// LearningStore keeps the phrasings learned from resolutions
// (postgres.DB).
type LearningStore interface {
	AnswerGroup(ctx context.Context, workspaceID, group string) (parley.AnswerGroup, error)
	AddPhrasing(ctx context.Context, p parley.Phrasing) (parley.Phrasing, bool, error)
	DecidePhrasing(ctx context.Context, workspaceID, id string, approve bool) (parley.Phrasing, error)
	ApprovedPhrasings(ctx context.Context, workspaceID string, limit int) ([]parley.Phrasing, error)
	MarkPhrasingsAdded(ctx context.Context, workspaceID, kbID string, ids, externalIDs []string) (map[string]int64, error)
	EnsureKB(ctx context.Context, workspaceID, name string) (parley.KnowledgeBase, bool, error)
}

// LearnedKB is the knowledge base learned phrasings are added to, one
// source of kind phrasing each.
const LearnedKB = "learned"

// addBatch is the most approved phrasings one ingest adds.
const addBatch = 500

// minTopicWords is the fewest words a request for a person must say
// besides the request to be learned as a question.
const minTopicWords = 3

// Learn makes the customer's question of a resolved escalation a phrasing
// of the knowledge the agent said answered it: masked (PII, the
// customer's name and identifiers), unless the answer group has it
// already. Under the workspace's learning setting it is added to
// knowledge at once (auto: then the classifier retrains), queued for
// review, or not learned at all (off).
func (s *Service) Learn(ctx context.Context, ws parley.Workspace, esc parley.Escalation) (parley.Learned, error) {
	k := esc.AnsweredBy
	switch {
	case ws.Settings.Learning == parley.LearnOff:
		return parley.Learned{Skipped: "off"}, nil
	case k == nil:
		return parley.Learned{Skipped: "not_named"}, nil
	case k.None:
		return parley.Learned{Skipped: "none"}, nil
	}
	// A request for a person is learned without the words asking for
	// one ("E-09 display fault, can I speak to someone?"), and not at all
	// when little else is left.
	question := withoutHumanRequest(esc.Context.Question, ws.Settings.Languages)
	if question != esc.Context.Question && len(strings.Fields(question)) < minTopicWords {
		return parley.Learned{Skipped: "human_request"}, nil
	}
	g, err := s.store.AnswerGroup(ctx, ws.ID, k.Group)
	if err != nil {
		return parley.Learned{}, fmt.Errorf("learn from escalation %s: %w", esc.ID, err)
	}
	text := strings.TrimSpace(ingest.MaskCustomer(question, ingest.Identity{
		Customer: esc.Context.Customer, Keep: strings.Join(g.Texts, "\n") + "\n" + g.Answer,
	}))
	norm := ingest.NormalizePhrasing(text)
	if norm == "" {
		return parley.Learned{Skipped: "empty"}, nil
	}
	for _, t := range g.Texts {
		if ingest.NormalizePhrasing(t) == norm {
			return parley.Learned{Skipped: "duplicate"}, nil
		}
	}
	status := parley.PhrasingPending
	if ws.Settings.Learning == parley.LearnAuto {
		status = parley.PhrasingApproved
	}
	p, dup, err := s.store.AddPhrasing(ctx, parley.Phrasing{
		WorkspaceID: ws.ID, EscalationID: esc.ID, Group: k.Group, SourceID: k.SourceID,
		Text: text, Normalized: norm, Language: esc.Context.Language, Status: status,
	})
	if err != nil {
		return parley.Learned{}, fmt.Errorf("learn from escalation %s: %w", esc.ID, err)
	}
	if dup {
		return parley.Learned{Skipped: "duplicate"}, nil
	}
	if status == parley.PhrasingApproved {
		if p, err = s.addApproved(ctx, ws.ID, p); err != nil {
			return parley.Learned{Phrasing: &p}, err
		}
	}
	return parley.Learned{Phrasing: &p}, nil
}

// Decide approves (and adds to knowledge) or rejects a pending phrasing.
func (s *Service) Decide(ctx context.Context, workspaceID, id string, approve bool) (parley.Phrasing, error) {
	p, err := s.store.DecidePhrasing(ctx, workspaceID, id, approve)
	if err != nil || !approve {
		return p, err
	}
	return s.addApproved(ctx, workspaceID, p)
}

// addApproved adds the workspace's approved phrasings to the learned
// knowledge base, through the ingest pipeline (so the classifier
// retrains), and returns p as it then is. Phrasings approved earlier whose
// adding failed are added with them.
func (s *Service) addApproved(ctx context.Context, workspaceID string, p parley.Phrasing) (parley.Phrasing, error) {
	list, err := s.store.ApprovedPhrasings(ctx, workspaceID, addBatch)
	if err != nil {
		return p, err
	}
	if len(list) == 0 {
		return p, nil
	}
	kb, _, err := s.store.EnsureKB(ctx, workspaceID, LearnedKB)
	if err != nil {
		return p, fmt.Errorf("add learned phrasings: %w", err)
	}
	groups := map[string]parley.AnswerGroup{}
	var (
		docs        []ingest.Document
		ids, extIDs []string
	)
	for _, ph := range list {
		g, ok := groups[ph.Group]
		if !ok {
			if g, err = s.store.AnswerGroup(ctx, workspaceID, ph.Group); parley.ErrorCode(err) == parley.ENotFound {
				continue // the knowledge it was learned for is gone
			} else if err != nil {
				return p, fmt.Errorf("add learned phrasings: %w", err)
			}
			groups[ph.Group] = g
		}
		ext := "phrasing-" + ph.ID
		docs = append(docs, ingest.Document{
			ExternalID: ext, Kind: ingest.KindPhrasing, Group: ph.Group,
			Title: g.Title, URL: g.URL, Language: ph.Language, Intent: g.Intent, Tags: g.Tags,
			Question: ph.Text, Answer: g.Answer, Origin: "phrasing " + ph.ID,
		})
		ids, extIDs = append(ids, ph.ID), append(extIDs, ext)
	}
	if len(docs) == 0 {
		return p, nil
	}
	if _, err := s.Ingest(ctx, ingest.Request{WorkspaceID: workspaceID, KBID: kb.ID, Docs: docs}); err != nil {
		return p, fmt.Errorf("add %d learned phrasings: %w", len(docs), err)
	}
	added, err := s.store.MarkPhrasingsAdded(ctx, workspaceID, kb.ID, ids, extIDs)
	if err != nil {
		return p, err
	}
	if src, ok := added[p.ID]; ok {
		p.Status, p.AddedSource = parley.PhrasingAdded, src
	}
	return p, nil
}

// sentence is a sentence with its closing punctuation.
var sentence = regexp.MustCompile(`[^.?!\n]+[.?!]*`)

// withoutHumanRequest is question without its sentences that ask for a
// person.
func withoutHumanRequest(question string, languages []string) string {
	if !reply.AsksForHuman(question, languages) {
		return question
	}
	var keep []string
	for _, s := range sentence.FindAllString(question, -1) {
		s = strings.TrimSpace(s)
		if !reply.AsksForHuman(s, languages) {
			keep = append(keep, s)
			continue
		}
		// "E-09 display fault, can I speak to someone?": the clauses
		// that do not ask.
		for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '–' }) {
			if c = strings.TrimSpace(c); c != "" && !reply.AsksForHuman(c, languages) {
				keep = append(keep, c)
			}
		}
	}
	return strings.Join(keep, " ")
}
