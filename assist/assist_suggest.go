package assist

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/prompts"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// SuggestRequest asks for replies an agent could send next.
type SuggestRequest struct {
	Workspace      parley.Workspace // as the caller read it (the API, with the key)
	ConversationID string           // the conversation to reply in, or
	Messages       []parley.Message // the conversation itself (role and text)
	Limit          int              // most suggestions returned (default 3, at most 10)
	Tone           string           // of the generated draft: one of prompts.Tones, or empty
	Language       string           // of the generated draft; the customer's when empty

	// OnKnowledge, if set, receives the knowledge suggestions as soon as
	// they are known, before the chat model is asked.
	OnKnowledge func(Suggestions) error
	// OnDelta, if set, receives the generated draft's raw text as the
	// model writes it (source markers included).
	OnDelta func(text string) error
}

// Suggestion is one reply an agent could send.
type Suggestion struct {
	Text       string                `json:"text"`
	Sources    []retrieval.SourceRef `json:"sources"`
	Confidence float64               `json:"confidence"`
	Kind       string                `json:"kind"`
}

// Suggestions are the replies suggested for a conversation, best first.
type Suggestions struct {
	ConversationID string           `json:"conversation_id,omitempty"`
	Question       string           `json:"question"`
	Language       string           `json:"language"`   // of the customer's message
	Confidence     float64          `json:"confidence"` // that the best knowledge answers it
	Suggestions    []Suggestion     `json:"suggestions"`
	Generation     reply.Generation `json:"generation"`
}

const (
	defaultSuggestions = 3
	maxSuggestions     = 10
	maxSuggestMessages = 100
	// promptCandidates is how many answers the draft's prompt may use.
	promptCandidates = 6
)

// Suggest returns knowledge suggestions and, with a chat model, a grounded
// draft first. A model that fails does not fail the call: the knowledge
// suggestions come back with Generation saying what happened.
func (a *Assistant) Suggest(ctx context.Context, req SuggestRequest) (Suggestions, error) {
	if err := checkSuggest(&req); err != nil {
		return Suggestions{}, err
	}
	ws := req.Workspace
	history, convLang, err := a.history(ctx, ws.ID, req)
	if err != nil {
		return Suggestions{}, err
	}
	qi := lastCustomer(history)
	if qi < 0 {
		return Suggestions{}, parley.Errorf(parley.EInvalid, "the conversation has no customer message to reply to")
	}
	question := history[qi].Text
	lang := a.engine.DetectLanguage(question, cmp.Or(convLang, ws.Settings.DefaultLanguage()), ws.Settings)
	query, previous := reply.Topic(question, history[:qi], ws.Settings.Languages)
	ranking, err := a.engine.Retrieve(ctx, ws.ID, query, previous, reply.SearchLanguages(lang, ws.Settings))
	if err != nil {
		return Suggestions{}, err
	}
	res := Suggestions{ConversationID: req.ConversationID, Question: question, Language: lang, Confidence: ranking.Confidence}
	usable := reply.UsableCandidates(ranking)
	knowledge := knowledgeSuggestions(ranking, usable)
	res.Suggestions = knowledge[:min(len(knowledge), req.Limit)]
	res.Generation = reply.Generation{Status: reply.GenPending}
	if req.OnKnowledge != nil {
		if err := req.OnKnowledge(res); err != nil {
			return res, err
		}
	}

	draft, gen, err := a.draft(ctx, req, history, usable, cmp.Or(req.Language, lang), ranking.Confidence)
	if err != nil {
		return res, err
	}
	res.Generation = gen
	if draft != nil {
		res.Suggestions = append([]Suggestion{*draft}, knowledge[:min(len(knowledge), req.Limit-1)]...)
	}
	return res, nil
}

func checkSuggest(req *SuggestRequest) error {
	if req.Limit == 0 {
		req.Limit = defaultSuggestions
	}
	switch {
	case req.Limit < 1 || req.Limit > maxSuggestions:
		return parley.Errorf(parley.EInvalid, "limit must be from 1 to %d, got %d", maxSuggestions, req.Limit)
	case !prompts.ValidTone(req.Tone):
		return parley.Errorf(parley.EInvalid, "unknown tone %q: use one of %s", req.Tone, strings.Join(prompts.Tones, ", "))
	case req.ConversationID != "" && len(req.Messages) > 0:
		return parley.Errorf(parley.EInvalid, "give conversation_id or messages, not both")
	case req.ConversationID == "" && len(req.Messages) == 0:
		return parley.Errorf(parley.EInvalid, "give conversation_id or messages")
	case len(req.Messages) > maxSuggestMessages:
		return parley.Errorf(parley.ETooLarge, "messages has %d entries; the limit is %d", len(req.Messages), maxSuggestMessages)
	}
	for i, m := range req.Messages {
		switch m.Role {
		case parley.RoleCustomer, parley.RoleHuman, parley.RoleBot:
		default:
			return parley.Errorf(parley.EInvalid, "messages[%d].role must be customer, agent or bot, got %q", i, m.Role)
		}
		if err := reply.CheckText(fmt.Sprintf("messages[%d].text", i), m.Text, MaxAssistChars); err != nil {
			return err
		}
	}
	return checkLanguage("language", req.Language)
}

// history returns the conversation the suggestions are for and its
// language, if known.
func (a *Assistant) history(ctx context.Context, workspaceID string, req SuggestRequest) ([]parley.Message, string, error) {
	if req.ConversationID == "" {
		return req.Messages, "", nil
	}
	conv, err := a.engine.History(ctx, workspaceID, req.ConversationID, reply.HistoryTurns)
	if err != nil {
		return nil, "", err
	}
	return conv.Messages, conv.Language, nil
}

func lastCustomer(msgs []parley.Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == parley.RoleCustomer && strings.TrimSpace(msgs[i].Text) != "" {
			return i
		}
	}
	return -1
}

// knowledgeSuggestions turns candidates into suggestions. The best gets
// the ranking's calibrated confidence; the others that scaled by their
// share of the vote relative to the best.
func knowledgeSuggestions(r retrieval.Ranking, cands []retrieval.Candidate) []Suggestion {
	out := make([]Suggestion, 0, len(cands))
	for _, c := range cands {
		conf := r.Confidence
		if top, ok := r.Top(); ok && top.Score > 0 {
			conf = math.Round(r.Confidence*math.Min(c.Score/top.Score, 1)*1000) / 1000
		}
		out = append(out, Suggestion{Text: strings.TrimSpace(c.Answer), Sources: c.Sources, Confidence: conf, Kind: reply.KindKnowledge})
	}
	return out
}

// draft asks the chat model for a reply grounded in the candidates. It
// returns nil and the reason when there is no usable draft; an error only
// when the caller went away or a callback failed.
func (d *Drafter) draft(ctx context.Context, req SuggestRequest, history []parley.Message, cands []retrieval.Candidate, lang string, confidence float64) (*Suggestion, reply.Generation, error) {
	if d.model == nil {
		return nil, reply.Generation{Status: reply.GenNoModel, Reason: NoModelMessage}, nil
	}
	if len(cands) == 0 {
		return nil, reply.Generation{Status: reply.GenNoKnowledge, Reason: "nothing in the knowledge matches the customer's message, so there is nothing to ground a draft in"}, nil
	}
	refs := map[int64]retrieval.SourceRef{}
	var knowledge []prompts.Knowledge
	for _, c := range cands[:min(len(cands), promptCandidates)] {
		src := c.Sources[0]
		refs[src.ID] = src
		knowledge = append(knowledge, prompts.Knowledge{SourceID: src.ID, Title: src.Title, Text: c.Answer})
	}
	prompt, err := d.render.Suggest(prompts.SuggestInput{Transcript: turns(history), Knowledge: knowledge, Language: lang, Tone: req.Tone})
	if err != nil {
		return nil, reply.Generation{}, err
	}
	opts := llm.Options{Task: "suggest", MaxTokens: prompt.MaxTokens, Temperature: 0.3}
	var c llm.Completion
	if req.OnDelta != nil {
		c, err = d.model.Stream(ctx, prompt.Messages, opts, req.OnDelta)
	} else {
		c, err = d.model.Complete(ctx, prompt.Messages, opts)
	}
	if err != nil {
		if canceled(ctx, err) || parley.ErrorCode(err) == parley.EInternal {
			return nil, reply.Generation{}, err
		}
		return nil, reply.Generation{Status: reply.GenFailed, Reason: parley.ErrorMessage(err),
			Error: &reply.GenerationError{Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)}}, nil
	}
	packed := map[int64]bool{}
	for _, k := range prompt.Knowledge {
		packed[k.SourceID] = true
	}
	text, cited, gen := checkDraft(c.Text, packed)
	if gen.Status != reply.GenGenerated {
		d.log.InfoContext(ctx, "generated draft not used", "status", gen.Status, "reason", gen.Reason)
		return nil, gen, nil
	}
	s := &Suggestion{Text: text, Confidence: confidence, Kind: reply.KindGenerated}
	for _, id := range cited {
		s.Sources = append(s.Sources, refs[id])
	}
	return s, gen, nil
}

var (
	citation  = regexp.MustCompile(`\s*\[\s*source\s*[:=#]?\s*(\d+)\s*\]`)
	noAnswer  = regexp.MustCompile(`(?i)^\W*no_answer\W*$`)
	spaceRuns = regexp.MustCompile(`[ \t]{2,}`)
)

// checkDraft validates a draft's citations: it must cite at least one
// source, and only sources the prompt showed. It returns the text without
// the citation markers and the cited source ids in order of first use.
func checkDraft(output string, packed map[int64]bool) (string, []int64, reply.Generation) {
	text, err := prompts.CleanOutput(output, "")
	if err != nil {
		return "", nil, reply.Generation{Status: reply.GenDropped, Reason: err.Error()}
	}
	if text == "" || noAnswer.MatchString(text) || strings.HasPrefix(strings.ToUpper(text), "NO_ANSWER") {
		return "", nil, reply.Generation{Status: reply.GenNoAnswer, Reason: "the chat model found no answer to the customer's message in the knowledge"}
	}
	var cited []int64
	seen := map[int64]bool{}
	for _, m := range citation.FindAllStringSubmatch(text, -1) {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || !packed[id] {
			return "", nil, reply.Generation{Status: reply.GenDropped, Reason: fmt.Sprintf("the draft cited source %s, which was not retrieved for this question", m[1])}
		}
		if !seen[id] {
			seen[id] = true
			cited = append(cited, id)
		}
	}
	if len(cited) == 0 {
		return "", nil, reply.Generation{Status: reply.GenDropped, Reason: "the draft cited no source, so it may not be grounded in the knowledge"}
	}
	clean := citation.ReplaceAllString(text, "")
	clean = spaceRuns.ReplaceAllString(clean, " ")
	return strings.TrimSpace(clean), cited, reply.Generation{Status: reply.GenGenerated}
}

// turns converts messages for a prompt.
func turns(msgs []parley.Message) []prompts.Turn {
	out := make([]prompts.Turn, 0, len(msgs))
	for _, m := range msgs {
		if strings.TrimSpace(m.Text) == "" {
			continue
		}
		out = append(out, prompts.Turn{Role: promptRole(m.Role), Text: m.Text})
	}
	return out
}

// promptRole maps a stored role to one the prompts show.
func promptRole(role string) string {
	switch role {
	case parley.RoleCustomer, parley.RoleBot, parley.RoleHuman, parley.RoleSystem:
		return role
	}
	return "other"
}

// Ground writes a grounded answer for the engine (reply.Grounder): the
// draft of Suggest, for the transcript ending with the customer's message.
func (d *Drafter) Ground(ctx context.Context, transcript []parley.Message, lang string, cands []retrieval.Candidate) (*reply.Answer, reply.Generation, error) {
	s, gen, err := d.draft(ctx, SuggestRequest{}, transcript, cands, lang, 0)
	if s == nil {
		return nil, gen, err
	}
	return &reply.Answer{Text: s.Text, Sources: s.Sources, Kind: s.Kind}, gen, err
}
