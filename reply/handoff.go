package reply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// HandoffRequest is a customer asking for a person outright (the widget's
// button), rather than in a message.
type HandoffRequest struct {
	Workspace      parley.Workspace
	ConversationID string
	VisitorID      string // when set, a conversation of anyone else is not found
}

// Handoff escalates a conversation at the customer's request: with reason
// unhelpful when the customer marked the bot's last answer unhelpful,
// human_requested otherwise. The packet carries the customer's last
// question with the knowledge's candidates for it. A conversation already
// handed to a person is left as it is (status queued, its state).
func (e *Engine) Handoff(ctx context.Context, req HandoffRequest) (Result, error) {
	start := time.Now()
	ws := req.Workspace
	conv, err := e.conversation(ctx, Request{Workspace: ws, ConversationID: req.ConversationID, VisitorID: req.VisitorID}, ws)
	if err != nil {
		return Result{}, err
	}
	if conv.Status == parley.StateWaiting || conv.Status == parley.StateAgent {
		return Result{ConversationID: conv.ID, Status: StatusQueued, State: conv.Status, Language: conv.Language}, nil
	}
	history := botVisible(conv.Messages)
	lang := cmp.Or(conv.Language, ws.Settings.DefaultLanguage())
	d := Decision{Reason: parley.ReasonHumanRequested, Explain: "The customer asked for a person with the chat's button."}
	if lastAnswerUnhelpful(history) {
		d = Decision{Reason: parley.ReasonUnhelpful, Explain: "The customer marked the bot's answer as not helpful and asked for a person."}
	}
	question := PreviousQuestion(history)
	var ranking retrieval.Ranking
	if question != "" {
		if ranking, _, err = e.retrieve(ctx, ws.ID, question, "", SearchLanguages(lang, ws.Settings), alwaysWithPrevious, nil); err != nil {
			return Result{}, err
		}
	}
	notice := handoffNotice(lang)
	esc, m, err := e.store.Escalate(context.WithoutCancel(ctx), e.escalation(ws, conv, history, question, lang, ranking, e.calibrated(ctx, ws.ID).bars.Floor, d, notice))
	switch {
	case errors.Is(err, parley.ErrOpenEscalation):
		return Result{ConversationID: conv.ID, Status: StatusQueued, State: parley.StateWaiting, Language: lang}, nil
	case err != nil:
		return Result{}, fmt.Errorf("hand off conversation %s: %w", conv.ID, err)
	}
	e.announce(ctx, ws.ID, conv.ID, parley.ChangeCreated)
	return Result{
		ConversationID: conv.ID, Status: StatusEscalated, State: parley.StateWaiting, MessageID: m.ID, Language: lang,
		Confidence: ranking.Confidence, Ranking: ranking, Decision: d,
		Escalation: &EscalationNotice{ID: esc.ID, Reason: esc.Reason, Team: esc.Team, Message: notice},
		Timings:    Timings{Total: time.Since(start)},
	}, nil
}

// lastAnswerUnhelpful reports whether the customer marked the bot's last
// answer as not helpful.
func lastAnswerUnhelpful(history []parley.Message) bool {
	for i := len(history) - 1; i >= 0; i-- {
		if m := history[i]; m.Role == parley.RoleBot {
			return m.Helpful != nil && !*m.Helpful
		}
	}
	return false
}
