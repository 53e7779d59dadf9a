package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// Killing the server (SIGKILL) while it answers loses nothing it said it
// stored, and leaves no half-written exchange: every answer a client got is
// in the transcript after the customer's message, every bot message follows
// a customer message, and every escalation has its customer notice.
func TestKilledServerLosesNoStoredMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	ctx := context.Background()
	db := pgtest.DB(t)
	ws, key, child := serveSampleFAQ(t, "PARLEY_LOG_LEVEL=error")

	// Clients ask until the server dies; it is killed once answers flow.
	type answered struct{ conversation, question, status string }
	var (
		mu   sync.Mutex
		got  []answered
		wg   sync.WaitGroup
		once sync.Once
	)
	flowing := make(chan struct{})
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				q := fmt.Sprintf("How long does delivery to Germany take? (client %d, question %d)", c, i)
				body, _ := json.Marshal(map[string]any{"message": map[string]string{"text": q}})
				req, _ := http.NewRequest("POST", child.url("/v1/answer"), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				var r struct {
					ConversationID string `json:"conversation_id"`
					Status         string `json:"status"`
				}
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					return
				}
				mu.Lock()
				got = append(got, answered{r.ConversationID, q, r.Status})
				if len(got) >= 20 {
					once.Do(func() { close(flowing) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-flowing:
	case <-time.After(2 * time.Minute):
		t.Fatal("no answers from the server")
	}
	time.Sleep(50 * time.Millisecond) // kill in the middle of requests, not between them
	if err := child.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for _, a := range got {
		conv, err := db.Conversation(ctx, ws.ID, a.conversation, 10)
		if err != nil {
			t.Fatalf("answered conversation %s: %v", a.conversation, err)
		}
		if len(conv.Messages) != 2 || conv.Messages[0].Text != a.question || conv.Messages[1].Role != parley.RoleBot {
			t.Fatalf("conversation %s (%s) after the crash: %+v", a.conversation, a.status, conv.Messages)
		}
	}
	// Exchanges cut short: at most the customer's message, never a bot
	// message or an escalation without it.
	var orphans int
	err := db.Pool().QueryRow(ctx, `
		SELECT count(*) FROM messages b
		WHERE b.workspace_id = $1 AND b.role = 'bot' AND NOT EXISTS (
			SELECT 1 FROM messages m WHERE m.conversation_id = b.conversation_id AND m.role = 'customer' AND m.id < b.id)`,
		ws.ID).Scan(&orphans)
	if err != nil || orphans != 0 {
		t.Fatalf("%d bot messages without a customer message before them (err %v)", orphans, err)
	}
	var unannounced int
	err = db.Pool().QueryRow(ctx, `
		SELECT count(*) FROM escalations e WHERE e.workspace_id = $1 AND NOT EXISTS (
			SELECT 1 FROM messages m WHERE m.conversation_id = e.conversation_id AND m.meta->>'escalation_id' = e.id::text)`,
		ws.ID).Scan(&unannounced)
	if err != nil || unannounced != 0 {
		t.Fatalf("%d escalations without their customer notice (err %v)", unannounced, err)
	}
	t.Logf("%d answers before the kill; all stored whole", len(got))
}
