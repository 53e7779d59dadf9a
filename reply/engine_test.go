package reply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

const sampleFAQ = "../evals/suites/sample/knowledge/faq.csv"

// loadSample ingests the sample FAQ into a fresh workspace and returns it
// with an engine over it (no language detector: the fallback language is
// used).
func loadSample(t *testing.T, settings func(*parley.WorkspaceSettings)) (*reply.Engine, *postgres.DB, parley.Workspace) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	ingestFile(t, db, ws.ID, sampleFAQ)
	s := ws.Settings
	s.AnswerThreshold = 0.3
	if settings != nil {
		settings(&s)
	}
	ws, err := db.UpdateSettings(ctx, ws.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	return reply.New(db, retrieval.NewLocal(), reply.Options{Classifiers: db}), db, ws
}

// ingestFile loads a knowledge file into the workspace's knowledge base
// "faq" through the real pipeline (local embedder) and returns the base.
func ingestFile(t *testing.T, db *postgres.DB, workspaceID, path string) parley.KnowledgeBase {
	t.Helper()
	return ingestFileWith(t, db, workspaceID, path, retrieval.NewLocal())
}

// ingestFileWith is ingestFile with another embedder.
func ingestFileWith(t *testing.T, db *postgres.DB, workspaceID, path string, embedder retrieval.Embedder) parley.KnowledgeBase {
	t.Helper()
	ctx := context.Background()
	kb, _, err := db.EnsureKB(ctx, workspaceID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err := ingest.LoadPath(ctx, path, ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.NewPipeline(db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{}))
	if _, err := pipe.Run(ctx, ingest.Request{WorkspaceID: workspaceID, KBID: kb.ID, Docs: docs}); err != nil {
		t.Fatal(err)
	}
	return kb
}

func TestAnswerFromKnowledge(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, nil)
	ctx := context.Background()
	res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Channel: "web", Text: "How long does delivery to Germany take?"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != reply.StatusAnswered || res.Answer == nil {
		t.Fatalf("status %s (%s), want answered", res.Status, res.Decision.Explain)
	}
	if !strings.Contains(res.Answer.Text, "Germany") || len(res.Answer.Sources) == 0 || res.Answer.Sources[0].ExternalID != "faq-shipping-times" {
		t.Fatalf("answer %+v, want the shipping-times FAQ with its source", res.Answer)
	}
	if res.Confidence <= 0 || res.Confidence > 1 {
		t.Fatalf("confidence %v outside (0, 1]", res.Confidence)
	}
	conv, err := db.Conversation(ctx, ws.ID, res.ConversationID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Messages) != 2 || conv.Messages[0].Role != parley.RoleCustomer || conv.Messages[1].Role != parley.RoleBot {
		t.Fatalf("transcript %+v, want the customer's message then the bot's answer", conv.Messages)
	}
}

func TestEscalationReasons(t *testing.T) {
	t.Parallel()
	engine, db, ws := loadSample(t, func(s *parley.WorkspaceSettings) {
		s.Sensitive = []string{"refunds"}
		s.Languages = []string{"en", "de"}
	})
	ctx := context.Background()
	tests := []struct {
		name, text string
		reason     string
	}{
		{"human requested", "I want to talk to a real person please", parley.ReasonHumanRequested},
		{"human requested in German", "Ich möchte bitte mit einem Mitarbeiter sprechen", parley.ReasonHumanRequested},
		{"sensitive tag", "I want a refund for my order, give me my money back", parley.ReasonSensitive},
		{"no match", "zxqv blorf wibble", parley.ReasonNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != reply.StatusEscalated || res.Escalation == nil || res.Escalation.Reason != tt.reason {
				t.Fatalf("got %s %+v (%s), want escalated for %s", res.Status, res.Escalation, res.Decision.Explain, tt.reason)
			}
			esc, err := db.Escalation(ctx, ws.ID, res.Escalation.ID)
			if err != nil {
				t.Fatal(err)
			}
			p := esc.Context
			if p.Question != tt.text || len(p.Transcript) == 0 || p.Explain == "" || esc.Team == "" {
				t.Fatalf("escalation packet incomplete: %+v", esc)
			}
		})
	}
}

func TestRepeatedQuestionEscalates(t *testing.T) {
	t.Parallel()
	engine, _, ws := loadSample(t, nil)
	ctx := context.Background()
	first, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: "How long does delivery to Germany take?"})
	if err != nil || first.Status != reply.StatusAnswered {
		t.Fatalf("first answer: %v %+v", err, first)
	}
	again, err := engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: first.ConversationID,
		Text: "How long does delivery to Germany take??"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != reply.StatusEscalated || again.Escalation.Reason != parley.ReasonRepeat {
		t.Fatalf("asking again: %s %+v, want escalated for repeat", again.Status, again.Escalation)
	}
}

func TestThresholdIsPerWorkspace(t *testing.T) {
	t.Parallel()
	low, _, wsLow := loadSample(t, func(s *parley.WorkspaceSettings) { s.AnswerThreshold = 0 })
	high, _, wsHigh := loadSample(t, func(s *parley.WorkspaceSettings) { s.AnswerThreshold = 1 })
	ctx := context.Background()
	q := "How long does delivery to Germany take?"
	a, err := low.Answer(ctx, reply.Request{Workspace: wsLow, Text: q})
	if err != nil {
		t.Fatal(err)
	}
	b, err := high.Answer(ctx, reply.Request{Workspace: wsHigh, Text: q})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != reply.StatusAnswered || b.Status != reply.StatusEscalated || b.Escalation.Reason != parley.ReasonLowConfidence {
		t.Fatalf("threshold 0: %s; threshold 1: %s %+v", a.Status, b.Status, b.Escalation)
	}
}

func TestSearchStaysInWorkspace(t *testing.T) {
	t.Parallel()
	engine, _, withKnowledge := loadSample(t, nil)
	empty := pgtest.Workspace(t)
	ctx := context.Background()
	res, err := engine.Answer(ctx, reply.Request{Workspace: empty, Text: "How long does delivery to Germany take?"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != reply.StatusEscalated || len(res.Ranking.Candidates) != 0 {
		t.Fatalf("a workspace without knowledge found %d candidates (from workspace %s?)", len(res.Ranking.Candidates), withKnowledge.Name)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	engine, _, ws := loadSample(t, nil)
	other, _, otherWS := loadSample(t, nil)
	ctx := context.Background()
	res, err := other.Answer(ctx, reply.Request{Workspace: otherWS, Text: "hello there, where is my parcel"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  reply.Request
		code string
	}{
		{"empty", reply.Request{Text: "   "}, parley.EInvalid},
		{"too long", reply.Request{Text: strings.Repeat("a", 100_000)}, parley.ETooLarge},
		{"unknown conversation", reply.Request{Text: "hi", ConversationID: "0b0e8b4e-0000-4000-8000-000000000000"}, parley.ENotFound},
		{"malformed conversation id", reply.Request{Text: "hi", ConversationID: "42"}, parley.ENotFound},
		{"another workspace's conversation", reply.Request{Text: "hi", ConversationID: res.ConversationID}, parley.ENotFound},
	}
	if _, err := engine.Answer(ctx, reply.Request{Text: "hi"}); err == nil {
		t.Error("a request without a workspace was answered")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Workspace = ws
			_, err := engine.Answer(ctx, tt.req)
			if parley.ErrorCode(err) != tt.code {
				t.Fatalf("got %v, want code %s", err, tt.code)
			}
		})
	}
}

// cancelOnSearch cancels the request (the client went away) once the
// engine searches, after it started writing the customer's message.
type cancelOnSearch struct {
	*postgres.DB
	cancel context.CancelFunc
}

func (s cancelOnSearch) Search(ctx context.Context, q parley.SearchQuery) ([]parley.Hit, error) {
	s.cancel()
	<-ctx.Done()
	return nil, ctx.Err()
}

// A request that dies mid-way keeps the customer's message and leaves no
// half-written answer.
func TestInterruptedRequestKeepsTheMessage(t *testing.T) {
	t.Parallel()
	_, db, ws := loadSample(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	engine := reply.New(cancelOnSearch{DB: db, cancel: cancel}, retrieval.NewLocal(), reply.Options{Classifiers: db})
	start, err := db.CreateConversation(context.Background(), ws.ID, "web", parley.Customer{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Answer(ctx, reply.Request{Workspace: ws, ConversationID: start.ID, Text: "where is my parcel?"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	conv, err := db.Conversation(context.Background(), ws.ID, start.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Messages) != 1 || conv.Messages[0].Text != "where is my parcel?" || conv.Status != parley.StateBot {
		t.Fatalf("after the interruption: status %s, messages %+v; want just the customer's message", conv.Status, conv.Messages)
	}
}
