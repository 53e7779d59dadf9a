package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/ratelimit"
	"github.com/parleyhq/parley/visitor"
)

// TestWidgetStreamsBenchmark (make bench-widget) opens PARLEY_BENCH_STREAMS
// visitor event streams (default 1000) on one server with live delivery
// through LISTEN/NOTIFY, then sends agent replies (through the store, as
// another replica would) to random conversations and measures how long
// each takes from the start of the agent's write (its transaction and
// commit included) to its stream, and the memory the open streams hold.
func TestWidgetStreamsBenchmark(t *testing.T) {
	if os.Getenv("PARLEY_BENCH_WIDGET") == "" {
		t.Skip("set PARLEY_BENCH_WIDGET=1 (make bench-widget) to run")
	}
	streams, replies := 1000, 500
	if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_STREAMS")); err == nil && n > 0 {
		streams = n
	}
	lots := ratelimit.Rate{Events: 1_000_000, Per: time.Minute}
	e := newLiveEnv(t, func(o *api.Options) {
		o.WidgetLimits = api.WidgetLimits{Visitor: lots, Key: lots, Address: lots, NewConversations: lots}
	})
	ctx, db := context.Background(), pgtest.DB(t)
	key := e.widgetKey(shop)
	e.create("/v1/teams", `{"name": "support"}`)
	agent := e.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	vkey, err := db.VisitorKey(ctx, e.ws.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Conversations handed to a person, one per visitor.
	convs := make([]string, streams)
	tokens := make([]string, streams)
	began := time.Now()
	for i := range streams {
		vid := fmt.Sprintf("v_bench%06d", i)
		c, err := db.StartVisitorConversation(ctx, e.ws.ID, vid, parley.Customer{}, "en")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Escalate(ctx, parley.NewEscalation{WorkspaceID: e.ws.ID, ConversationID: c.ID, Reason: parley.ReasonHumanRequested,
			CustomerNotice: "A person will reply.", Context: parley.EscalationContext{Question: "human", Candidates: []byte("[]")}}); err != nil {
			t.Fatal(err)
		}
		tok, err := visitor.Sign(vkey, visitor.Claims{WorkspaceID: e.ws.ID, VisitorID: vid, ExpiresAt: time.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		convs[i], tokens[i] = c.ID, tok
	}
	t.Logf("set up %d handed-off conversations in %v", streams, time.Since(began).Round(time.Millisecond))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutinesBefore := runtime.NumGoroutine()

	// The streams: each records when each text arrives.
	type arrival struct {
		text string
		at   time.Time
	}
	arrivals := make(chan arrival, replies)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams, MaxConnsPerHost: 0}}
	var ready sync.WaitGroup
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	began = time.Now()
	for i := range streams {
		ready.Add(1)
		go func() {
			u := fmt.Sprintf("%s/v1/widget/conversations/%s/events?key=%s&token=%s", e.srv.URL, convs[i], key, tokens[i])
			req, _ := http.NewRequestWithContext(streamCtx, "GET", u, nil)
			req.Header.Set("Origin", shop)
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("stream %d: %v %v", i, err, resp)
				ready.Done()
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 4096)
			first := true
			for {
				n, err := resp.Body.Read(buf)
				if err != nil {
					return
				}
				if first { // the initial state event: the stream is open
					first = false
					ready.Done()
				}
				chunk := string(buf[:n])
				if j := strings.Index(chunk, "bench-reply-"); j >= 0 {
					end := strings.IndexAny(chunk[j:], `"`)
					arrivals <- arrival{text: chunk[j : j+end], at: time.Now()}
				}
			}
		}()
	}
	ready.Wait()
	t.Logf("opened %d streams in %v", streams, time.Since(began).Round(time.Millisecond))
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perStream := float64((after.HeapInuse+after.StackInuse)-(before.HeapInuse+before.StackInuse)) / float64(streams)
	goroutines := float64(runtime.NumGoroutine()-goroutinesBefore) / float64(streams)

	// Replies at 50/s to random conversations, through the store.
	sent := map[string]time.Time{}
	var mu sync.Mutex
	tick := time.NewTicker(20 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range replies {
		<-tick.C
		text := fmt.Sprintf("bench-reply-%d", i)
		conv := convs[rand.IntN(streams)]
		mu.Lock()
		sent[text] = time.Now() // the agent's write begins
		mu.Unlock()
		wg.Go(func() {
			if _, err := db.PostAgentMessage(ctx, e.ws.ID, parley.AgentMessage{ConversationID: conv, AgentID: agent, Text: text}); err != nil {
				t.Errorf("reply: %v", err)
			}
		})
	}
	tick.Stop()
	wg.Wait()
	var lat []time.Duration
	deadline := time.After(10 * time.Second)
	for len(lat) < replies {
		select {
		case a := <-arrivals:
			mu.Lock()
			at, ok := sent[a.text]
			mu.Unlock()
			if ok {
				lat = append(lat, a.at.Sub(at))
			}
		case <-deadline:
			t.Fatalf("%d of %d replies arrived within 10 s of the last", len(lat), replies)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("%d streams open; %d agent replies at 50/s to random conversations: from the agent's write to the visitor's stream p50 %v, p90 %v, p99 %v, max %v",
		streams, replies, pct(0.5).Round(time.Microsecond), pct(0.9).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	t.Logf("memory per open stream (heap + stacks, server and test client in one process): %.1f KiB; goroutines per stream: %.1f", perStream/1024, goroutines)
	if p99 := pct(0.99); p99 > time.Second {
		t.Errorf("p99 delivery %v, want at most 1 s", p99)
	}
}
