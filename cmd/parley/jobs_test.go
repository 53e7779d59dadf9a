package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// An ingest job survives `kill -9` of the server running it: two servers
// share the database, one takes the job (its embeddings hang), it is
// killed, and the other server runs the job again from the upload kept in
// the database, to completion, as attempt 2.
func TestIngestJobSurvivesKilledServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	ctx := context.Background()
	// A schema of its own: servers of other tests share the package's
	// schema, and with it a job queue, and would take this test's job.
	db, url := pgtest.FreshDBURL(t, 4)
	ws, _, err := db.EnsureWorkspace(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := db.CreateKey(ctx, ws.ID, "jobs", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	// Each server has an embedder of its own, which holds its requests
	// until released: the one that gets a request tells who took the job.
	type server struct {
		child   *childServer
		arrived chan struct{}
		release chan struct{}
	}
	var servers [2]*server
	for i := range servers {
		s := &server{arrived: make(chan struct{}, 100), release: make(chan struct{})}
		embedder := openaitest.New(t, gated(s.arrived, s.release, openaitest.Embeddings(8)))
		s.child = startServer(t, "PARLEY_DATABASE_URL="+url, "PARLEY_EMBEDDER=openai", "PARLEY_EMBED_BASE_URL="+embedder.BaseURL(),
			"PARLEY_EMBED_MODEL=test-embed", "PARLEY_EMBED_DIMENSIONS=8", "PARLEY_LLM_MAX_RETRIES=0",
			"PARLEY_LOG_LEVEL=warn", "PARLEY_INGEST_JOB_TIMEOUT=6s")
		servers[i] = s
	}
	if c := post(servers[0].child.url("/v1/knowledge-bases"), key, `{"name": "faq"}`); c.status != http.StatusCreated {
		t.Fatalf("create knowledge base: %d %v %s", c.status, c.err, c.body)
	}
	// 300 FAQ entries are 600 chunks: more than an upload answered at once.
	var records []string
	for i := range 300 {
		records = append(records, fmt.Sprintf(`{"question": "How do I do thing %d?", "answer": "Do thing %d like this."}`, i, i))
	}
	c := post(servers[0].child.url("/v1/knowledge-bases/faq/uploads"), key, `{"records": [`+strings.Join(records, ",")+`]}`)
	var accepted struct {
		Job struct {
			ID   string `json:"id"`
			KBID string `json:"knowledge_base_id"`
		} `json:"job"`
	}
	if c.err != nil || c.status != http.StatusAccepted || json.Unmarshal(c.body, &accepted) != nil {
		t.Fatalf("upload: %d %v %s, want 202 and a job", c.status, c.err, c.body)
	}
	job := func() parley.IngestJob {
		t.Helper()
		j, err := db.IngestJob(ctx, ws.ID, accepted.Job.KBID, accepted.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}

	var taker, other *server
	select {
	case <-servers[0].arrived:
		taker, other = servers[0], servers[1]
	case <-servers[1].arrived:
		taker, other = servers[1], servers[0]
	case <-time.After(60 * time.Second):
		for _, s := range servers {
			_ = s.child.cmd.Process.Kill()
			<-s.child.exited
		}
		t.Fatalf("no server took the job: %+v\nlogs:\n%s\n%s", job(), servers[0].child.log.String(), servers[1].child.log.String())
	}
	if j := job(); j.State != parley.JobRunning || j.Attempt != 1 {
		t.Fatalf("job being embedded: %+v, want running, attempt 1", j)
	}
	if err := taker.child.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-taker.child.exited
	close(other.release)

	start := time.Now()
	deadline := start.Add(2 * time.Minute)
	for {
		j := job()
		if j.State == parley.JobSucceeded {
			if j.Attempt != 2 || !strings.Contains(string(j.Counts), `"added": 300`) {
				t.Fatalf("job after the kill: %+v, want attempt 2 adding 300", j)
			}
			t.Logf("completed by the other server %s after the kill", time.Since(start).Round(100*time.Millisecond))
			break
		}
		if j.State == parley.JobFailed || time.Now().After(deadline) {
			t.Fatalf("job after the kill: %+v\nother server's log:\n%s", j, other.child.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var sources int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM sources WHERE workspace_id = $1`, ws.ID).Scan(&sources); err != nil || sources != 300 {
		t.Fatalf("%d sources after the job (err %v), want 300", sources, err)
	}
}
