package evals

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// Store is what the runner needs from the database.
type Store interface {
	EnsureWorkspace(ctx context.Context, name string) (parley.Workspace, bool, error)
	EnsureKB(ctx context.Context, workspaceID, name string) (parley.KnowledgeBase, bool, error)
	UpdateSettings(ctx context.Context, workspaceID string, s parley.WorkspaceSettings) (parley.Workspace, error)
	DeleteConversations(ctx context.Context, workspaceID string) error
	CreateConversation(ctx context.Context, workspaceID, channel string, customer parley.Customer, language string) (parley.Conversation, error)
	AddMessage(ctx context.Context, m parley.NewMessage) (parley.Message, error)
}

// Engine is the reply engine the API uses.
type Engine interface {
	Answer(ctx context.Context, req reply.Request) (reply.Result, error)
}

// Knowledge loads knowledge and retrains after it, as for every other
// change of knowledge (knowledge.Service).
type Knowledge interface {
	Ingest(ctx context.Context, req ingest.Request) (ingest.Result, error)
}

// Runner loads a suite's knowledge and runs its cases through the engine.
type Runner struct {
	store     Store
	engine    Engine
	knowledge Knowledge
	log       *slog.Logger
}

// NewRunner returns a runner loading knowledge through k.
func NewRunner(store Store, engine Engine, k Knowledge, log *slog.Logger) *Runner {
	return &Runner{store: store, engine: engine, knowledge: k, log: log}
}

// Options tune a run.
type Options struct {
	// Workspace to load the knowledge into (default "eval-" + suite name).
	// It is the suite's own: its conversations are cleared before the run.
	Workspace string
	// TargetPrecision is the precision the calibrated threshold must reach
	// (default 0.95).
	TargetPrecision float64
	// Workers run cases concurrently (default 2 × GOMAXPROCS).
	Workers int
	// Progress, if set, is called as cases finish.
	Progress func(done, total int)
	// AllowUnknownLabels runs a suite whose cases expect intents or source
	// ids that the knowledge does not have (they can never be right); the
	// report lists them. Without it such a run fails before it starts.
	AllowUnknownLabels bool
}

// Run loads the knowledge (skipping what is unchanged since the last run),
// applies the suite's settings and runs every case.
func (r *Runner) Run(ctx context.Context, s *Suite, opts Options) (*Report, error) {
	if opts.Workspace == "" {
		opts.Workspace = s.Workspace()
	}
	opts = opts.withDefaults()
	cases, err := s.LoadCases()
	if err != nil {
		return nil, err
	}
	docs, err := loadKnowledge(ctx, s)
	if err != nil {
		return nil, err
	}
	labels := labelsOf(docs)
	unknown := labels.unknown(cases)
	if len(unknown) > 0 && !opts.AllowUnknownLabels {
		return nil, unknownLabelsError(unknown)
	}
	ws, err := r.prepare(ctx, s, opts.Workspace, docs)
	if err != nil {
		return nil, err
	}
	rep, err := r.evaluate(ctx, s, ws, cases, opts)
	if err != nil {
		return nil, err
	}
	rep.LabelledOnly, rep.UnknownLabels = !labels.answers, unknown
	return rep, nil
}

// Evaluate runs the suite's cases against workspace ws as its knowledge
// and settings now are, loading nothing: for a workspace taught by other
// means, such as resolutions. opts.Workspace is not used.
func (r *Runner) Evaluate(ctx context.Context, s *Suite, ws parley.Workspace, opts Options) (*Report, error) {
	cases, err := s.LoadCases()
	if err != nil {
		return nil, err
	}
	return r.evaluate(ctx, s, ws, cases, opts.withDefaults())
}

// withDefaults fills in the target precision and the workers.
func (o Options) withDefaults() Options {
	if o.TargetPrecision == 0 {
		o.TargetPrecision = 0.95
	}
	if o.Workers <= 0 {
		o.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	return o
}

func (r *Runner) evaluate(ctx context.Context, s *Suite, ws parley.Workspace, cases []Case, opts Options) (*Report, error) {
	start := time.Now()
	outcomes, err := r.runCases(ctx, ws, cases, opts)
	if err != nil {
		return nil, err
	}
	rep := buildReport(s, ws, outcomes, opts.TargetPrecision)
	rep.RanAt = start.UTC().Truncate(time.Second)
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// Prepare loads the knowledge into the named workspace, applies the suite's
// settings and clears the conversations of earlier runs.
func (r *Runner) Prepare(ctx context.Context, s *Suite, name string) (parley.Workspace, error) {
	docs, err := loadKnowledge(ctx, s)
	if err != nil {
		return parley.Workspace{}, err
	}
	return r.prepare(ctx, s, name, docs)
}

// loadKnowledge reads the suite's knowledge files.
func loadKnowledge(ctx context.Context, s *Suite) ([]ingest.Document, error) {
	var docs []ingest.Document
	for _, k := range s.Knowledge {
		d, _, err := ingest.LoadPath(ctx, s.resolve(k.Path), ingest.LoadOptions{
			Kind: ingest.Kind(k.Kind), Format: ingest.Format(k.Format), Columns: k.Columns,
		})
		if err != nil {
			return nil, fmt.Errorf("load knowledge %s: %w", k.Path, err)
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// prepare is Prepare with the knowledge read.
func (r *Runner) prepare(ctx context.Context, s *Suite, name string, docs []ingest.Document) (parley.Workspace, error) {
	ws, _, err := r.store.EnsureWorkspace(ctx, name)
	if err != nil {
		return ws, fmt.Errorf("eval workspace: %w", err)
	}
	kb, _, err := r.store.EnsureKB(ctx, ws.ID, "suite")
	if err != nil {
		return ws, fmt.Errorf("eval knowledge base: %w", err)
	}
	// Settings first: what is learned after the ingest (the calibration)
	// depends on the languages and sensitive topics.
	if ws, err = r.store.UpdateSettings(ctx, ws.ID, s.apply(parley.DefaultSettings())); err != nil {
		return ws, fmt.Errorf("apply suite settings: %w", err)
	}
	res, err := r.knowledge.Ingest(ctx, ingest.Request{WorkspaceID: ws.ID, KBID: kb.ID, Docs: docs, Prune: true})
	if err != nil {
		return ws, fmt.Errorf("ingest knowledge: %w", err)
	}
	r.log.Info("knowledge loaded", "workspace", ws.Name, "added", res.Added, "updated", res.Updated,
		"unchanged", res.Unchanged, "pruned", res.Pruned, "elapsed", res.Elapsed.Round(time.Millisecond).String())
	if err := r.store.DeleteConversations(ctx, ws.ID); err != nil {
		return ws, fmt.Errorf("clear earlier runs: %w", err)
	}
	return ws, nil
}

func (r *Runner) runCases(ctx context.Context, ws parley.Workspace, cases []Case, opts Options) ([]Outcome, error) {
	out := make([]Outcome, len(cases))
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				o, err := r.runCase(ctx, ws, cases[i])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("case %s: %w", cases[i].ID, err)
				}
				out[i] = o
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(cases))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range cases {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

// runCase replays the case's earlier turns into a new conversation, then
// has the engine answer its last customer message.
func (r *Runner) runCase(ctx context.Context, ws parley.Workspace, c Case) (Outcome, error) {
	req := reply.Request{Workspace: ws, Channel: "eval", Text: c.Question()}
	if len(c.Messages) > 1 {
		conv, err := r.store.CreateConversation(ctx, ws.ID, "eval", parley.Customer{}, "")
		if err != nil {
			return Outcome{}, err
		}
		for _, t := range c.Messages[:len(c.Messages)-1] {
			if _, err := r.store.AddMessage(ctx, parley.NewMessage{WorkspaceID: ws.ID, ConversationID: conv.ID, Role: t.Role, Text: t.Text}); err != nil {
				return Outcome{}, err
			}
		}
		req.ConversationID = conv.ID
	}
	start := time.Now()
	res, err := r.engine.Answer(ctx, req)
	if err != nil {
		return Outcome{}, err
	}
	return judge(c, res, time.Since(start)), nil
}

// judge compares what the engine did with what the case expects.
func judge(c Case, res reply.Result, latency time.Duration) Outcome {
	o := Outcome{
		Case: c, Status: res.Status, Reason: res.Decision.Reason, Confidence: res.Confidence,
		LatencyMS: float64(latency.Microseconds()) / 1000, Language: res.Language,
	}
	o.Answerable = res.Decision.Scored
	switch res.Decision.Reason {
	case parley.ReasonHumanRequested, parley.ReasonSensitive, parley.ReasonRepeat:
		o.Forced = true
	}
	for i, cand := range res.Ranking.Candidates {
		if i < 3 {
			o.Top = append(o.Top, brief(cand))
		}
		if o.Rank == 0 && c.inScope() && matches(c, cand) {
			o.Rank = i + 1
		}
	}
	o.TopCorrect = o.Rank == 1
	switch {
	case c.SmallTalk:
		o.Correct = res.Status == reply.StatusSmallTalk
	case c.inScope():
		o.Correct = res.Status == reply.StatusAnswered && o.TopCorrect
	default:
		o.Correct = res.Status == reply.StatusEscalated
	}
	return o
}

// matches reports whether a candidate is an acceptable answer for the case.
func matches(c Case, cand retrieval.Candidate) bool {
	if c.Intent != "" && strings.EqualFold(c.Intent, cand.Intent) {
		return true
	}
	for _, s := range cand.Sources {
		if slices.Contains(c.SourceIDs, s.ExternalID) {
			return true
		}
	}
	return false
}

func brief(c retrieval.Candidate) CandidateBrief {
	answer := c.Answer
	if r := []rune(answer); len(r) > 160 {
		answer = string(r[:160]) + "…"
	}
	label := c.Intent
	if label == "" && len(c.Sources) > 0 {
		label = c.Sources[0].ExternalID
	}
	return CandidateBrief{Label: label, Score: c.Score, Similarity: round3(c.Similarity), Prior: c.Prior, Answer: answer}
}
