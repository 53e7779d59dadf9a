// Package reply is Parley's answer engine: for a customer's message it
// detects the language, retrieves the knowledge, decides whether to answer
// or to escalate to a human (a customer asking for one included), and
// records the outcome. It has no HTTP in it; the API and the eval runner
// both drive it.
package reply

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// Store is what the engine needs from the database.
type Store interface {
	// RecordCustomerMessage stores a customer's message, starting the
	// conversation when it names none. Its commit need not be flushed to
	// disk on its own: the engine's next write is, with it.
	RecordCustomerMessage(ctx context.Context, m parley.CustomerMessage) (parley.Conversation, parley.Message, error)
	// Conversation reads a conversation; any id it does not hold, malformed
	// ones included, is parley.ENotFound.
	Conversation(ctx context.Context, workspaceID, id string, limit int) (parley.Conversation, error)
	AddMessage(ctx context.Context, m parley.NewMessage) (parley.Message, error)
	Search(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error)
	Escalate(ctx context.Context, e parley.NewEscalation) (parley.Escalation, parley.Message, error)
	// AnnounceQueueChange tells agents' live queues that the
	// conversation's unresolved escalation changed (a parley.Change*
	// value), once the change is committed.
	AnnounceQueueChange(ctx context.Context, workspaceID, conversationID, change string) error
}

// ClassifierStore is what the engine needs to use the workspaces' intent
// classifiers (retrieval.Trainer trains them).
type ClassifierStore interface {
	retrieval.ClassifierSource
	// GroupHits returns the nearest chunk of each of the groups as a hit.
	GroupHits(ctx context.Context, q parley.SearchQuery, groups []string) ([]parley.Hit, error)
	// GroupAnswer returns the answer text GroupHits would carry for the
	// group ("" when it has none).
	GroupAnswer(ctx context.Context, q parley.SearchQuery, group string) (string, error)
}

// MaxMessageChars is the longest customer message the engine takes.
const MaxMessageChars = 4000

// Options are the engine's optional parts. Each is used when set; none is
// looked for anywhere else.
type Options struct {
	// Language detects a message's language (see DetectLanguage); nil takes
	// the customer's stated language, the conversation's or the
	// workspace's first.
	Language *LanguageDetector
	// Classifiers holds the workspaces' intent classifiers, mixed into
	// the vote; nil ranks by the vote alone (a workspace without a
	// classifier is ranked so anyway).
	Classifiers ClassifierStore
	// Calibrations keeps the workspaces' fitted answer thresholds (see
	// Calibrate); nil answers at the workspaces' threshold settings alone.
	Calibrations CalibrationStore
	// Grounder writes generated answers for workspaces with
	// generate_answers on; nil (no chat model) answers with the stored
	// answers.
	Grounder Grounder
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
}

// Engine answers customer messages.
type Engine struct {
	store    Store
	embedder retrieval.Embedder
	lang     *LanguageDetector
	log      *slog.Logger
	// classifiers is nil when there are none to use.
	classifiers *retrieval.ClassifierCache
	groups      ClassifierStore
	ground      Grounder // nil without a chat model
	// calibrations is nil when the store keeps none.
	calibrations *calibrationCache
}

// New returns an engine answering from store's knowledge with embedder's
// vectors, using the optional parts opts names.
func New(store Store, embedder retrieval.Embedder, opts Options) *Engine {
	e := &Engine{store: store, embedder: embedder, lang: opts.Language, log: opts.Logger, ground: opts.Grounder}
	if e.ground != nil {
		// Every language may come up (DetectLanguage): no customer waits
		// for its models to load.
		e.LoadAllLanguages()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if opts.Classifiers != nil {
		e.classifiers = retrieval.NewClassifierCache(opts.Classifiers, classifierCheckInterval)
		e.groups = opts.Classifiers
	}
	if opts.Calibrations != nil {
		e.calibrations = &calibrationCache{store: opts.Calibrations, entries: map[string]cachedCalibration{}}
	}
	return e
}

// classifierCheckInterval is how often the engine looks for a retrained
// classifier of a workspace.
const classifierCheckInterval = 5 * time.Second

// Request is one customer message to answer.
type Request struct {
	// Workspace is the workspace answering, with its settings as the caller
	// read them (the API reads them with the key).
	Workspace      parley.Workspace
	ConversationID string // empty starts a conversation
	// VisitorID, when set, is the widget visitor asking: a conversation of
	// anyone else is not found.
	VisitorID string
	Customer  parley.Customer
	Channel   string
	Text      string
}

// Result is what the engine did with a message.
type Result struct {
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"` // answered, escalated or queued
	// State is the conversation's state after the message (parley.StateBot
	// and so on). MessageID is the id of the last message stored: the
	// bot's reply (answer, small talk or handoff notice), or the
	// customer's message when queued.
	State      string            `json:"state"`
	MessageID  int64             `json:"message_id"`
	Language   string            `json:"language"`
	Confidence float64           `json:"confidence"`
	Answer     *Answer           `json:"answer,omitempty"`
	Escalation *EscalationNotice `json:"escalation,omitempty"`
	Ranking    retrieval.Ranking `json:"-"`
	Decision   Decision          `json:"-"`
	Timings    Timings           `json:"-"`
}

// Timings are how long the steps of one answer took. The customer's
// message is stored while the question is embedded and searched, so the
// steps add up to more than Total.
type Timings struct {
	Embed    time.Duration // embedding the question
	Search   time.Duration // the knowledge search, vector and full text
	Rank     time.Duration // the classifier's lookups and the vote
	Customer time.Duration // detecting the language, storing the customer's message
	Generate time.Duration // writing a grounded answer with the chat model
	Outcome  time.Duration // storing the answer or the escalation
	Total    time.Duration
}

// Answer is the bot's reply with the sources it comes from. Kind is
// "knowledge" (the stored answer) or "generated" (written by the chat
// model from the retrieved sources, citing only them).
type Answer struct {
	Text    string                `json:"text"`
	Sources []retrieval.SourceRef `json:"sources"`
	Kind    string                `json:"kind"`
}

// EscalationNotice tells the widget a human takes over.
type EscalationNotice struct {
	ID      string `json:"id"`
	Reason  string `json:"reason"`
	Team    string `json:"team"`
	Message string `json:"message"` // shown to the customer
}

// Status values of a Result.
const (
	StatusAnswered  = "answered"
	StatusEscalated = "escalated"
	// StatusQueued: the conversation is handed to a person, so the bot
	// stays silent; the message waits for the agent in the handoff.
	StatusQueued = "queued"
	// StatusSmallTalk: a greeting, thanks or goodbye, answered with a
	// short reply without searching the knowledge.
	StatusSmallTalk = "small_talk"
)

// Answer handles one customer message. The customer's message is stored
// before anything else, and the bot's answer or the escalation is stored
// before Answer returns, so a crash loses nothing the customer said.
func (e *Engine) Answer(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	var t Timings
	text := strings.TrimSpace(req.Text)
	if err := CheckText("message.text", text, MaxMessageChars); err != nil {
		return Result{}, err
	}
	if lang := req.Customer.Language; lang != "" {
		if err := parley.CheckLanguage("customer.language", lang); err != nil {
			return Result{}, err
		}
	}
	ws := req.Workspace
	if ws.ID == "" {
		return Result{}, fmt.Errorf("answer: request names no workspace")
	}
	conv, err := e.conversation(ctx, req, ws)
	if err != nil {
		return Result{}, err
	}
	known := cmp.Or(req.Customer.Language, conv.Language, ws.Settings.DefaultLanguage())
	if conv.Status == parley.StateWaiting || conv.Status == parley.StateAgent {
		return e.queue(ctx, req, conv, text, known)
	}
	if kind, talkLang := SmallTalk(text, ws.Settings.Languages, known); kind != "" {
		return e.smallTalk(ctx, req, conv, text, kind, talkLang, start)
	}
	history := botVisible(conv.Messages)
	var lang string // detected while the knowledge is searched, in the known language

	// The customer's message is written (after its language is detected)
	// while the knowledge is searched; both must be done before anything
	// else is written or returned. Writes do not stop when the client goes
	// away: the transcript stays whole. The customer's commit does not wait
	// for the disk: the outcome's, written after it, flushes it too
	// (TestCustomerMessageIsCoveredByTheNextWrite guards this order).
	write := context.WithoutCancel(ctx)
	var res Result
	stored := make(chan error, 1)
	go func() {
		ctx, began := write, time.Now()
		lang = e.DetectLanguage(text, known, ws.Settings)
		started, m, err := e.store.RecordCustomerMessage(ctx, customerMessage(req, conv.ID, lang, text))
		if err == nil && conv.ID == "" {
			conv = started
		}
		res.MessageID = m.ID
		t.Customer = time.Since(began)
		stored <- err
	}()
	// The workspace's calibration raises the bar to where its own
	// knowledge shows answers are precise enough, and says how similar a
	// question must be to match anything (see Calibrate).
	cal := e.calibrated(ctx, ws.ID)
	settings := ws.Settings
	settings.AnswerThreshold = max(settings.AnswerThreshold, cal.threshold)
	query, previous := Topic(text, history, ws.Settings.Languages)
	alone := answerable{threshold: settings.AnswerThreshold, bars: cal.bars}
	ranking, simPrev, err := e.retrieve(ctx, ws.ID, query, previous, SearchLanguages(known, ws.Settings), alone, &t)
	if storeErr := <-stored; storeErr != nil {
		return Result{}, fmt.Errorf("store customer message: %w", storeErr)
	}
	if err != nil {
		return Result{}, err
	}
	d := Decide(settings, cal.bars, text, history, ranking, simPrev)
	transcript := append(slices.Clone(history), parley.Message{Role: parley.RoleCustomer, Text: text})
	var answer *Answer
	if d.Answer {
		top, _ := ranking.Top()
		answer = &Answer{Text: top.Answer, Sources: top.Sources, Kind: KindKnowledge}
		if ws.Settings.GenerateAnswers && e.ground != nil {
			began := time.Now()
			if answer, d, err = e.generate(ctx, transcript, lang, ranking, answer, d); err != nil {
				return Result{}, err
			}
			t.Generate = time.Since(began)
		}
	}
	res.ConversationID, res.Language, res.Confidence, res.Ranking, res.Decision = conv.ID, lang, ranking.Confidence, ranking, d
	began := time.Now()
	if d.Answer {
		top, _ := ranking.Top()
		meta, err := encodeMeta(botMeta{Kind: "answer", Group: top.GroupKey, Confidence: ranking.Confidence, Sources: answer.Sources, Generated: answer.Kind == KindGenerated})
		if err != nil {
			return Result{}, err
		}
		m, err := e.store.AddMessage(write, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv.ID, Role: parley.RoleBot, Text: answer.Text, Meta: meta})
		if err != nil {
			return Result{}, fmt.Errorf("store answer: %w", err)
		}
		res.MessageID = m.ID
		res.Status, res.State = StatusAnswered, parley.StateBot
		res.Answer = answer
	} else {
		notice := handoffNotice(lang)
		esc, m, err := e.store.Escalate(write, e.escalation(ws, conv, transcript, text, lang, ranking, cal.bars.Floor, d, notice))
		switch {
		case errors.Is(err, parley.ErrOpenEscalation):
			// Another message of the conversation was handed off first:
			// this one waits in that handoff.
			res.Status, res.State = StatusQueued, parley.StateWaiting
			e.announce(ctx, ws.ID, conv.ID, parley.ChangeMessage)
		case err != nil:
			return Result{}, fmt.Errorf("escalate: %w", err)
		default:
			res.Status, res.State, res.MessageID = StatusEscalated, parley.StateWaiting, m.ID
			res.Escalation = &EscalationNotice{ID: esc.ID, Reason: esc.Reason, Team: esc.Team, Message: notice}
			e.announce(ctx, ws.ID, conv.ID, parley.ChangeCreated)
		}
	}
	t.Outcome = time.Since(began)
	t.Total = time.Since(start)
	res.Timings = t
	return res, nil
}

// smallTalk answers a greeting, thanks or goodbye with the workspace's
// reply, storing both messages.
func (e *Engine) smallTalk(ctx context.Context, req Request, conv parley.Conversation, text, kind, lang string, start time.Time) (Result, error) {
	write := context.WithoutCancel(ctx)
	ws := req.Workspace
	began := time.Now()
	started, _, err := e.store.RecordCustomerMessage(write, customerMessage(req, conv.ID, lang, text))
	if err != nil {
		return Result{}, fmt.Errorf("store customer message: %w", err)
	}
	if conv.ID == "" {
		conv = started
	}
	customer := time.Since(began)
	answer := &Answer{Text: smallTalkReply(ws.Settings, kind, lang), Sources: []retrieval.SourceRef{}, Kind: KindSmallTalk}
	began = time.Now()
	meta, err := encodeMeta(smallTalkMeta{Kind: KindSmallTalk, Talk: kind})
	if err != nil {
		return Result{}, err
	}
	m, err := e.store.AddMessage(write, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv.ID, Role: parley.RoleBot, Text: answer.Text, Meta: meta})
	if err != nil {
		return Result{}, fmt.Errorf("store small-talk reply: %w", err)
	}
	t := Timings{Customer: customer, Outcome: time.Since(began), Total: time.Since(start)}
	return Result{ConversationID: conv.ID, Status: StatusSmallTalk, State: parley.StateBot, MessageID: m.ID,
		Language: lang, Answer: answer, Timings: t}, nil
}

// queue stores a customer's message to a conversation handed to a person
// (state waiting or agent): the bot stays silent, and the agent finds the
// message in the handoff. The write is flushed before the response: it is
// the only one.
func (e *Engine) queue(ctx context.Context, req Request, conv parley.Conversation, text, known string) (Result, error) {
	began := time.Now()
	lang := e.DetectLanguage(text, known, req.Workspace.Settings)
	cm := customerMessage(req, conv.ID, lang, text)
	m, err := e.store.AddMessage(context.WithoutCancel(ctx), parley.NewMessage{WorkspaceID: cm.WorkspaceID, ConversationID: conv.ID, Role: parley.RoleCustomer, Text: text, Meta: cm.Meta})
	if err != nil {
		return Result{}, fmt.Errorf("store customer message: %w", err)
	}
	e.announce(ctx, cm.WorkspaceID, conv.ID, parley.ChangeMessage)
	t := Timings{Customer: time.Since(began), Total: time.Since(began)}
	return Result{ConversationID: conv.ID, Status: StatusQueued, State: conv.Status, MessageID: m.ID, Language: lang, Timings: t}, nil
}

// announce tells agents' live queues of a change to the conversation's
// handoff the engine has committed. A failure is logged, not returned: the
// change is stored, and the queues show it when they next read it whole.
func (e *Engine) announce(ctx context.Context, workspaceID, conversationID, change string) {
	if err := e.store.AnnounceQueueChange(context.WithoutCancel(ctx), workspaceID, conversationID, change); err != nil {
		e.log.WarnContext(ctx, "announce to agents' queues", "conversation_id", conversationID, "change", change, "err", err.Error())
	}
}

// botVisible leaves out agents' internal notes: the bot never reads or
// repeats them.
func botVisible(msgs []parley.Message) []parley.Message {
	return slices.DeleteFunc(msgs, func(m parley.Message) bool { return m.Internal })
}

// generate replaces the extractive answer with a grounded generated one.
// A model that fails escalates (model_error) with the extractive answer as
// the draft; a draft that strays from the sources (cites none, or one not
// retrieved) or finds no answer leaves the extractive answer.
func (e *Engine) generate(ctx context.Context, transcript []parley.Message, lang string, r retrieval.Ranking, extractive *Answer, d Decision) (*Answer, Decision, error) {
	a, gen, err := e.ground.Ground(ctx, transcript, lang, UsableCandidates(r))
	switch {
	case err != nil:
		return nil, d, err
	case gen.Status == GenGenerated:
		return a, d, nil
	case gen.Status == GenFailed:
		return nil, Decision{Scored: true, Reason: parley.ReasonModelError,
			Explain: "The chat model failed to write the answer: " + gen.Reason + ". The stored answer is the draft."}, nil
	}
	e.log.InfoContext(ctx, "generated answer not used; answering with the stored one", "status", gen.Status, "reason", gen.Reason)
	return extractive, d, nil
}

// botMeta is stored with a bot answer; Decide reads it back to spot repeats.
type botMeta struct {
	Kind       string                `json:"kind"`
	Generated  bool                  `json:"generated,omitempty"`
	Group      string                `json:"group"`
	Confidence float64               `json:"confidence"`
	Sources    []retrieval.SourceRef `json:"sources"`
}

// smallTalkMeta is stored with a small-talk reply.
type smallTalkMeta struct {
	Kind string `json:"kind"`
	Talk string `json:"talk"` // greeting, thanks or goodbye
}

// customerMeta is stored with a customer's message.
type customerMeta struct {
	Language string `json:"language"` // detected
}

// encodeMeta encodes a message's meta for the store.
func encodeMeta[M botMeta | smallTalkMeta | customerMeta](m M) (json.RawMessage, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode message meta: %w", err)
	}
	return raw, nil
}

// customerMessage is the record of the request's customer message in
// language lang, in the conversation conversationID (empty starts one).
func customerMessage(req Request, conversationID, lang, text string) parley.CustomerMessage {
	meta, _ := encodeMeta(customerMeta{Language: lang}) // a string always encodes
	return parley.CustomerMessage{WorkspaceID: req.Workspace.ID, ConversationID: conversationID, Channel: req.Channel,
		Customer: req.Customer, Language: lang, Text: text, Meta: meta}
}

// HistoryTurns is how much of a conversation the engine reads.
const HistoryTurns = 50

// conversation returns the request's conversation with its recent
// messages, or an empty one (no ID yet) when the request starts one.
func (e *Engine) conversation(ctx context.Context, req Request, ws parley.Workspace) (parley.Conversation, error) {
	if req.ConversationID == "" {
		return parley.Conversation{Channel: req.Channel, Customer: req.Customer, Language: req.Customer.Language, Status: parley.StateBot}, nil
	}
	conv, err := e.store.Conversation(ctx, ws.ID, req.ConversationID, HistoryTurns)
	if err == nil && req.VisitorID != "" && conv.VisitorID != req.VisitorID {
		return parley.Conversation{}, parley.Errorf(parley.ENotFound, "conversation %q not found", req.ConversationID)
	}
	return conv, err
}

// Retrieve ranks the workspace's knowledge for text, searched together
// with previous, the customer's question before it, when text is a short
// follow-up (see PreviousQuestion). langs are the languages text may be
// in, likeliest first (see SearchLanguages).
func (e *Engine) Retrieve(ctx context.Context, workspaceID, text, previous string, langs []string) (retrieval.Ranking, error) {
	r, _, err := e.retrieve(ctx, workspaceID, text, previous, langs, alwaysWithPrevious, nil)
	return r, err
}

// DetectLanguage returns the language of a customer's text, or fallback
// when it cannot tell. With a chat model (a Grounder) it is told among all
// the languages the detector knows, since the model can answer, draft and
// translate in any of them; without one, among the workspace's languages
// and English (see LanguageDetector.DetectAmong): its stored answers and
// notices are in those, and it costs far less.
func (e *Engine) DetectLanguage(text, fallback string, s parley.WorkspaceSettings) string {
	if e.ground != nil {
		return e.lang.Detect(text, fallback)
	}
	return e.lang.DetectAmong(text, fallback, s.Languages)
}

// DetectAnyLanguage returns text's language among all the languages the
// detector knows, or fallback when it cannot tell: a text an agent has a
// chat model translate or rewrite may be in any. Call LoadAllLanguages
// first, or the first call waits seconds for their models.
func (e *Engine) DetectAnyLanguage(text, fallback string) string {
	return e.lang.Detect(text, fallback)
}

// LoadAllLanguages loads the models of every language the detector knows
// (about 200 MB of heap) now rather than at their first message.
func (e *Engine) LoadAllLanguages() { e.lang.LoadAll() }

// History reads one of the workspace's conversations with its latest limit
// messages.
func (e *Engine) History(ctx context.Context, workspaceID, conversationID string, limit int) (parley.Conversation, error) {
	return e.store.Conversation(ctx, workspaceID, conversationID, limit)
}

// SearchLanguages are the languages a question is searched in: lang, the
// one it is likeliest in, then the workspace's.
func SearchLanguages(lang string, s parley.WorkspaceSettings) []string {
	out := []string{lang}
	for _, l := range s.Languages {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// SearchLimit is how many hits each retriever returns.
const SearchLimit = 20

// answerable is the bar a ranking must clear to be answered: its
// confidence at least threshold, its best hit at least as similar as the
// bars' floor and similarity.
type answerable struct {
	threshold float64
	bars      Bars
}

func (a answerable) clears(r retrieval.Ranking) bool {
	top, ok := r.Top()
	return ok && r.Confidence >= a.threshold && top.Similarity >= max(a.bars.Floor, a.bars.Similarity)
}

// alwaysWithPrevious reads every short follow-up with the previous
// question: no ranking clears it.
var alwaysWithPrevious = answerable{threshold: math.Inf(1)}

// retrieve ranks the knowledge for text. A short follow-up is searched on
// its own and, unless that ranking clears alone (a new question: "and
// what if the payment bounces?"), together with the customer's previous
// question at equal weight, whose words name the topic ("and how long
// does that take?"). One that clears alone but points back with a
// pronoun is answered only when both readings agree (see pointsBack). It also returns the similarity of text to that
// previous question, and records its steps' times in t when t is not nil.
// langs are the languages text may be in, likeliest first.
func (e *Engine) retrieve(ctx context.Context, workspaceID, text, previous string, langs []string, alone answerable, t *Timings) (retrieval.Ranking, float64, error) {
	if t == nil {
		t = &Timings{}
	}
	if strings.TrimSpace(text) == "" {
		return retrieval.Ranking{}, 0, nil
	}
	began := time.Now()
	texts := []string{text}
	if previous != "" {
		texts = append(texts, previous)
	}
	vecs, err := e.embedder.Embed(ctx, texts)
	if err != nil {
		return retrieval.Ranking{}, 0, fmt.Errorf("embed question: %w", err)
	}
	t.Embed = time.Since(began)
	q := parley.SearchQuery{
		WorkspaceID: workspaceID, Model: e.embedder.Model(), Vector: vecs[0],
		Text: text, Languages: langs, Limit: SearchLimit,
	}
	simPrev := 0.0
	if previous != "" {
		simPrev = cosine(vecs[0], vecs[1])
	}
	followUp := previous != "" && len(strings.Fields(text)) <= followUpWords
	// own is the follow-up's own ranking, once searched.
	var own *retrieval.Ranking
	if !followUp || alone.threshold <= 1 { // a bar over 1 clears nothing
		r, err := e.search(ctx, q, t, nil, e.prior)
		if err != nil || !followUp || (alone.clears(r) && !pointsBack(text)) {
			return r, simPrev, err
		}
		own = &r
	}
	blended := q
	blended.Vector, blended.Text = blend(vecs[0], vecs[1], 1), text+" "+previous
	r, hits, err := e.searchHits(ctx, blended, t, nil, e.prior)
	if err != nil {
		return r, simPrev, err
	}
	top, ok := r.Top()
	if ok && own != nil && alone.clears(*own) {
		// It clears alone but points back ("how long does that take?"
		// after a question on returns clears alone as delivery times):
		// answered as it clears alone only when read with the previous
		// question it names the same entry; otherwise no reading is sure
		// ("which of them have 5G?" after the plans), and a person decides.
		if ownEvidence(*own, top.GroupKey) == 0 {
			own.Confidence = 0
		}
		return *own, simPrev, nil
	}
	if !ok || len(newContent(text, previous, top.GroupKey, top.Answer, hits)) == 0 {
		return r, simPrev, nil
	}
	// The follow-up asks something the entry does not say: it is a new
	// question with context, as sure as its own words make it.
	if own == nil {
		o, err := e.search(ctx, q, t, nil, e.prior)
		if err != nil {
			return r, simPrev, err
		}
		own = &o
	}
	r.Confidence = min(r.Confidence, ownEvidence(*own, top.GroupKey))
	return r, simPrev, nil
}

// search ranks the knowledge for an embedded question, leaving out the
// hits leftOut names (nil: none) as if they were not in the knowledge,
// mixing in the intent classifier's probabilities that classify returns
// (nil: none), and records its steps' times in t.
func (e *Engine) search(ctx context.Context, q parley.SearchQuery, t *Timings, leftOut func(parley.Hit) bool, classify func(context.Context, parley.SearchQuery) map[string]float64) (retrieval.Ranking, error) {
	r, _, err := e.searchHits(ctx, q, t, leftOut, classify)
	return r, err
}

// searchHits is search that also returns the hits ranked, with the nearest
// hit of each likely group the search missed.
func (e *Engine) searchHits(ctx context.Context, q parley.SearchQuery, t *Timings, leftOut func(parley.Hit) bool, classify func(context.Context, parley.SearchQuery) map[string]float64) (retrieval.Ranking, []parley.Hit, error) {
	// The classifier's probabilities need only the vector: they are
	// worked out while the knowledge is searched.
	prior := make(chan map[string]float64, 1)
	go func() { prior <- classify(ctx, q) }()
	began := time.Now()
	hits, err := e.store.Search(ctx, q)
	if err != nil {
		return retrieval.Ranking{}, nil, err
	}
	t.Search = time.Since(began)
	began = time.Now()
	excluded := func(h parley.Hit) bool { return leftOut != nil && leftOut(h) }
	if leftOut != nil {
		hits = leaveOut(hits, leftOut)
	}
	opts := e.rankOptions(ctx, q, hits, <-prior)
	opts.PriorHits = slices.DeleteFunc(opts.PriorHits, excluded)
	r := retrieval.Rank(hits, opts)
	if opts.Prior != nil {
		e.findAnswer(ctx, q, &r)
	}
	t.Rank = time.Since(began)
	return r, slices.Concat(hits, opts.PriorHits), nil
}

// leaveOut returns the hits without those leftOut names, each
// retriever's ranks of the rest renumbered as if those were never found,
// and only the first SearchLimit of each retriever kept (the search may
// have been wider so that enough are left).
func leaveOut(hits []parley.Hit, leftOut func(parley.Hit) bool) []parley.Hit {
	hits = slices.DeleteFunc(hits, leftOut)
	renumber := func(rank func(*parley.Hit) *int) {
		var ranks []int
		for i := range hits {
			if r := *rank(&hits[i]); r > 0 {
				ranks = append(ranks, r)
			}
		}
		slices.Sort(ranks)
		for i := range hits {
			if r := rank(&hits[i]); *r > 0 {
				n, _ := slices.BinarySearch(ranks, *r)
				*r = n + 1
				if *r > SearchLimit {
					*r = 0
				}
			}
		}
	}
	renumber(func(h *parley.Hit) *int { return &h.VectorRank })
	renumber(func(h *parley.Hit) *int { return &h.TextRank })
	for i := range hits {
		if hits[i].VectorRank == 0 {
			hits[i].Similarity = 0 // found by the keyword leg alone
		}
	}
	return slices.DeleteFunc(hits, func(h parley.Hit) bool { return h.VectorRank == 0 && h.TextRank == 0 })
}

// findAnswer gives the best candidate its group's answer when none of the
// hits had it: an intent's answer is stored with its FAQ entry, and the
// hits may all be example questions without one (a large workspace, many
// phrasings per answer). Like the classifier's likely groups, it is looked
// up in workspaces with a classifier, which are those with intents.
func (e *Engine) findAnswer(ctx context.Context, q parley.SearchQuery, r *retrieval.Ranking) {
	if len(r.Candidates) == 0 || r.Candidates[0].Answer != "" {
		return
	}
	top := &r.Candidates[0]
	answer, err := e.groups.GroupAnswer(ctx, q, top.GroupKey)
	if err != nil {
		e.log.WarnContext(ctx, "look up an answer group's answer", "workspace_id", q.WorkspaceID, "err", err.Error())
		return
	}
	top.Answer = answer
}

// priorGroups is how many of the classifier's likeliest groups are sure to
// be candidates, and minPrior the probability one needs for that: the
// engine looks up the nearest chunk of those the search did not return.
const (
	priorGroups = 3
	minPrior    = 0.1
)

// prior returns the workspace's intent classifier's probabilities for the
// query, or nil when it has none. A classifier that cannot be read is
// logged and done without.
func (e *Engine) prior(ctx context.Context, q parley.SearchQuery) map[string]float64 {
	if e.classifiers == nil {
		return nil
	}
	clf, err := e.classifiers.Get(ctx, q.WorkspaceID, q.Model)
	if err != nil {
		if ctx.Err() == nil {
			e.log.WarnContext(ctx, "intent classifier unavailable: ranking by the vote alone", "workspace_id", q.WorkspaceID, "err", err.Error())
		}
		return nil
	}
	return clf.Prior(q.Vector)
}

// rankOptions returns the vote's options: with the classifier's
// probabilities when there are any, and the nearest chunk of each likely
// group the search missed.
func (e *Engine) rankOptions(ctx context.Context, q parley.SearchQuery, hits []parley.Hit, prior map[string]float64) retrieval.RankOptions {
	opts := retrieval.RankOptions{Prior: prior}
	if prior == nil {
		return opts
	}
	if missing := missingGroups(opts.Prior, hits); len(missing) > 0 {
		extra, err := e.groups.GroupHits(ctx, q, missing)
		if err != nil {
			e.log.WarnContext(ctx, "intent classifier: look up answer groups", "workspace_id", q.WorkspaceID, "err", err.Error())
		}
		opts.PriorHits = extra
	}
	return opts
}

// missingGroups returns the likeliest groups of prior (at most priorGroups,
// each at least minPrior) that no hit belongs to.
func missingGroups(prior map[string]float64, hits []parley.Hit) []string {
	var likely []string
	for g, p := range prior {
		if p >= minPrior {
			likely = append(likely, g)
		}
	}
	slices.SortFunc(likely, func(a, b string) int {
		if c := cmp.Compare(prior[b], prior[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var missing []string
	for _, g := range likely[:min(len(likely), priorGroups)] {
		if !slices.ContainsFunc(hits, func(h parley.Hit) bool { return h.GroupKey == g }) {
			missing = append(missing, g)
		}
	}
	return missing
}

// cosine is the cosine similarity of two unit vectors.
func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot
}

// blend returns the unit vector along a + w*b.
func blend(a, b []float32, w float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] + w*b[i]
	}
	if !retrieval.NormaliseL2(out) {
		return a
	}
	return out
}

// escalation is the record of an escalation with its context packet;
// transcript ends with the customer's message.
func (e *Engine) escalation(ws parley.Workspace, conv parley.Conversation, transcript []parley.Message, text, lang string, r retrieval.Ranking, floor float64, d Decision, notice string) parley.NewEscalation {
	top, _ := r.Top()
	if top.Similarity < floor {
		// No match: a far candidate must not route the escalation or
		// become its draft.
		top = retrieval.Candidate{}
	}
	cands := r.Candidates
	if len(cands) > 5 {
		cands = cands[:5]
	}
	candJSON, err := json.Marshal(cands)
	if err != nil {
		candJSON = []byte("[]")
	}
	return parley.NewEscalation{
		WorkspaceID:    ws.ID,
		ConversationID: conv.ID,
		Reason:         d.Reason,
		Intent:         top.Intent,
		Tags:           top.Tags,
		CustomerNotice: notice,
		Context: parley.EscalationContext{
			Question:   text,
			Language:   lang,
			Customer:   conv.Customer,
			Channel:    conv.Channel,
			Transcript: transcript,
			Candidates: candJSON,
			Confidence: r.Confidence,
			Draft:      top.Answer,
			Explain:    d.Explain,
		},
	}
}
