//go:build faults

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/postgres/pgtest"
)

// The fault suite's tests (make test-faults) run against a cluster of the
// suite's own, which they restart.

// TestDatabaseRestartUnderLoad restarts PostgreSQL in immediate mode (a
// crash: no checkpoint, recovery on start) while clients ask questions.
// Clients must see only 200s and 503s (with Retry-After), never a 500;
// every answer a client got must be stored; and the server must answer
// again soon after the database is back. It prints the 503 window and the
// recovery time.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	restart := os.Getenv("PARLEY_FAULTS_PG_RESTART")
	if restart == "" {
		t.Skip("run by make test-faults, which starts a cluster of its own")
	}
	ctx := context.Background()
	db := pgtest.DB(t)
	ws, key, child := serveSampleFAQ(t, "PARLEY_LOG_LEVEL=warn")

	type response struct {
		at                     time.Time
		status                 int
		retryAfter             string
		conversation, question string
	}
	var (
		mu    sync.Mutex
		got   []response
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		start = time.Now()
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := fmt.Sprintf("How long does delivery to Germany take? (client %d, question %d)", c, i)
				body, _ := json.Marshal(map[string]any{"message": map[string]string{"text": q}})
				req, _ := http.NewRequest("POST", child.url("/v1/answer"), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
				var r struct {
					ConversationID string `json:"conversation_id"`
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				_ = json.Unmarshal(raw, &r)
				mu.Lock()
				got = append(got, response{time.Now(), resp.StatusCode, resp.Header.Get("Retry-After"), r.ConversationID, q})
				mu.Unlock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					time.Sleep(50 * time.Millisecond) // a client honouring Retry-After would wait longer
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	restartAt := time.Now()
	out, err := exec.Command("sh", "-c", restart).CombinedOutput()
	if err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
	backAt := time.Now()
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()

	counts := map[int]int{}
	var first503, last503, firstOKAfter time.Time
	for _, r := range got {
		counts[r.status]++
		switch {
		case r.status == http.StatusServiceUnavailable:
			if first503.IsZero() {
				first503 = r.at
			}
			last503 = r.at
			if r.retryAfter == "" {
				t.Errorf("a 503 without Retry-After")
			}
		case r.status == http.StatusOK && r.at.After(backAt) && firstOKAfter.IsZero():
			firstOKAfter = r.at
		case r.status != http.StatusOK:
			t.Errorf("status %d during the restart", r.status)
		}
	}
	if counts[http.StatusInternalServerError] > 0 {
		t.Errorf("%d responses were 500 during the database restart, want none", counts[http.StatusInternalServerError])
	}
	if firstOKAfter.IsZero() {
		t.Fatalf("no answer after the database came back (%v)", counts)
	}
	// Every acknowledged answer is stored.
	for _, r := range got {
		if r.status != http.StatusOK {
			continue
		}
		conv, err := db.Conversation(ctx, ws.ID, r.conversation, 10)
		if err != nil {
			t.Fatalf("acknowledged conversation %s: %v", r.conversation, err)
		}
		if len(conv.Messages) != 2 || conv.Messages[0].Text != r.question {
			t.Fatalf("acknowledged conversation %s after the restart: %+v", r.conversation, conv.Messages)
		}
	}
	window := time.Duration(0)
	if !first503.IsZero() {
		window = last503.Sub(first503)
	}
	statuses := slices.Sorted(func(yield func(int) bool) {
		for s := range counts {
			if !yield(s) {
				return
			}
		}
	})
	var summary string
	for _, s := range statuses {
		summary += fmt.Sprintf(" %d×%d", counts[s], s)
	}
	t.Logf("responses over %.1f s:%s; acknowledged answers all stored (%d)", time.Since(start).Seconds(), summary, counts[http.StatusOK])
	t.Logf("restart (pg_ctl restart -m immediate) took %.2f s; 503 window %.2f s; first answer %.2f s after the database was back",
		backAt.Sub(restartAt).Seconds(), window.Seconds(), firstOKAfter.Sub(backAt).Seconds())
}
