package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// benchOrigin is the site the benchmark's visitors are on.
const benchOrigin = "http://bench.example"

// TestWidgetStreamsBenchmark opens PARLEY_BENCH_WIDGET visitor event
// streams on one `parley serve` (the binary PARLEY_BENCH_WIDGET_BIN, a child
// process, so that its memory is its own) and has agents reply to every
// visitor at PARLEY_BENCH_WIDGET_RATE replies/s: each reply must reach its
// own visitor, and the figures are the delivery times and the server's memory
// per open stream. make bench-widget runs it.
func TestWidgetStreamsBenchmark(t *testing.T) {
	visitors, _ := strconv.Atoi(os.Getenv("PARLEY_BENCH_WIDGET"))
	bin := os.Getenv("PARLEY_BENCH_WIDGET_BIN")
	if visitors <= 0 || bin == "" {
		t.Skip("set PARLEY_BENCH_WIDGET (visitors) and PARLEY_BENCH_WIDGET_BIN (make bench-widget does)")
	}
	rate, _ := strconv.Atoi(os.Getenv("PARLEY_BENCH_WIDGET_RATE"))
	if rate <= 0 {
		rate = 100
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	keys := map[parley.Role]string{}
	for _, role := range []parley.Role{parley.RoleAgent, parley.RoleAdmin} {
		_, secret, err := db.CreateKey(ctx, ws.ID, "bench", role)
		if err != nil {
			t.Fatal(err)
		}
		keys[role] = secret
	}

	const addr = "127.0.0.1:18810"
	base := "http://" + addr
	srv := exec.CommandContext(ctx, bin, "serve")
	srv.Env = append(os.Environ(), "PARLEY_DATABASE_URL="+pgtest.URL(t), "PARLEY_ADDR="+addr, "PARLEY_LOG_LEVEL=warn",
		"PARLEY_RATE_VISITOR=100000/s", "PARLEY_RATE_WIDGET_KEY=100000/s", "PARLEY_RATE_ADDRESS=100000/s",
		"PARLEY_RATE_NEW_CONVERSATIONS=100000/s", "PARLEY_WRITE_TIMEOUT=30m")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if i > 1200 {
			t.Fatal("parley serve did not become ready in 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	call := func(method, path, key string, header map[string]string, body any) map[string]any {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = strings.NewReader(string(b))
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, r)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		var out map[string]any
		json.Unmarshal(raw, &out)
		return out
	}
	call("POST", "/v1/teams", keys[parley.RoleAdmin], nil, map[string]any{"name": "support"})
	call("PUT", "/v1/workspace/settings", keys[parley.RoleAdmin], nil, map[string]any{"default_team": "support"})
	agentID := call("POST", "/v1/agents", keys[parley.RoleAdmin], nil, map[string]any{"name": "Jana", "team": "support"})["id"].(string)
	widgetKey := call("POST", "/v1/widget-keys", keys[parley.RoleAdmin], nil, map[string]any{"name": "bench", "allowed_origins": []string{benchOrigin}})["key"].(string)

	// Every visitor starts a session and asks for a person (4 at a time).
	type visitor struct{ token, conv string }
	vs := make([]visitor, visitors)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range vs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			origin := map[string]string{"Origin": benchOrigin}
			tok := call("POST", "/v1/widget/session", widgetKey, origin, map[string]any{})["visitor_token"].(string)
			origin["X-Parley-Visitor"] = tok
			res := call("POST", "/v1/widget/messages", widgetKey, origin, map[string]any{"text": "I want to talk to a human please"})
			vs[i] = visitor{token: tok, conv: res["conversation_id"].(string)}
		}()
	}
	wg.Wait()
	t.Logf("%d visitors handed to a person in %v", visitors, time.Since(start).Round(time.Millisecond))

	rssBefore := rss(t, srv.Process.Pid)
	// One event stream per visitor; each records when its agent reply arrives.
	got := make([]time.Time, visitors)
	wrong := make(chan string, visitors)
	opened := make(chan struct{}, visitors)
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var readers sync.WaitGroup
	for i, v := range vs {
		readers.Add(1)
		go func() {
			defer readers.Done()
			url := fmt.Sprintf("%s/v1/widget/conversations/%s/events?key=%s&token=%s", base, v.conv, widgetKey, v.token)
			req, _ := http.NewRequestWithContext(streamCtx, "GET", url, nil)
			req.Header.Set("Origin", benchOrigin)
			res, err := client.Do(req)
			if err != nil || res.StatusCode != 200 {
				wrong <- fmt.Sprintf("visitor %d: stream: %v %v", i, err, res)
				opened <- struct{}{}
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			event, first := "", true
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					event = line[len("event: "):]
				case strings.HasPrefix(line, "data: ") && event == "state" && first:
					first = false
					opened <- struct{}{}
				case strings.HasPrefix(line, "data: ") && event == "message":
					var m struct{ Role, Text string }
					json.Unmarshal([]byte(line[len("data: "):]), &m)
					if m.Role != "agent" {
						continue
					}
					if m.Text != fmt.Sprintf("reply to visitor %d", i) {
						wrong <- fmt.Sprintf("visitor %d got %q", i, m.Text)
					}
					got[i] = time.Now()
					return
				}
			}
		}()
	}
	for range visitors {
		<-opened
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	rssOpen := rss(t, srv.Process.Pid)
	t.Logf("server memory: %.1f MiB before, %.1f MiB with %d open streams: %.1f KiB per stream",
		float64(rssBefore)/(1<<20), float64(rssOpen)/(1<<20), visitors, float64(rssOpen-rssBefore)/1024/float64(visitors))

	// Agents reply to each visitor at the rate, 8 requests in flight at most.
	sent := make([]time.Time, visitors)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem = make(chan struct{}, 8)
	begin := time.Now()
	for i, v := range vs {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sent[i] = time.Now()
			call("POST", "/v1/conversations/"+v.conv+"/messages", keys[parley.RoleAgent], nil,
				map[string]any{"agent_id": agentID, "text": fmt.Sprintf("reply to visitor %d", i)})
		}()
	}
	wg.Wait()
	t.Logf("sent %d replies in %v", visitors, time.Since(begin).Round(time.Millisecond))
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		stopStreams()
		<-done
	}
	close(wrong)
	for w := range wrong {
		t.Error(w)
	}
	var lat []time.Duration
	for i := range got {
		if got[i].IsZero() {
			t.Errorf("visitor %d never got its reply", i)
			continue
		}
		lat = append(lat, got[i].Sub(sent[i]))
	}
	if len(lat) == 0 {
		t.Fatal("no reply delivered")
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	t.Logf("%d of %d replies delivered to their visitor; from the agent's request to the visitor's stream: p50 %v, p99 %v, max %v",
		len(lat), visitors, q(0.5), q(0.99), lat[len(lat)-1].Round(time.Millisecond))
	if q(0.99) > time.Second {
		t.Errorf("p99 %v, want at most 1 s", q(0.99))
	}
}

// rss is a process's resident memory in bytes.
func rss(t *testing.T, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
