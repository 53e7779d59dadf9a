package evals_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// learningSteps are how many training questions per intent have been
// taught through resolutions at each measured step (cumulative).
var learningSteps = []int{0, 1, 3, 10}

// TestLearningCurveBanking77 measures learning from resolutions (make
// bench-learning): a workspace starts with one Banking77 training question
// per intent as knowledge; then, over the HTTP API, training questions are
// asked (the bot escalates: Banking77 has no answer texts) and each
// escalation is resolved naming its intent's answer group, with learning
// set to auto, until 1, 3 and 10 more per intent are taught. After each
// step the 3,080 test questions are run through the engine: hit@1 and
// coverage at 95% precision.
func TestLearningCurveBanking77(t *testing.T) {
	b := newBanking77Bench(t, "bench-learning")
	ctx, db, engine, know, quiet := context.Background(), b.db, b.engine, b.know, b.quiet
	byIntent, intents, suite := b.byIntent, b.intents, b.suite
	srv := httptest.NewServer(api.New(db, engine, api.Options{Knowledge: know, Logger: quiet, MaxBodyBytes: 1 << 20,
		Ready: db.Ping, ClassifyError: postgres.Classify}))
	defer srv.Close()
	ws := pgtest.Workspace(t)
	keys := map[parley.Role]string{}
	var err error
	for _, role := range []parley.Role{parley.RoleWidget, parley.RoleAgent, parley.RoleAdmin} {
		if _, keys[role], err = db.CreateKey(ctx, ws.ID, "bench", role); err != nil {
			t.Fatal(err)
		}
	}
	c := &client{t: t, url: srv.URL}
	admin := keys[parley.RoleAdmin]
	c.call("PUT", "/v1/workspace/settings", admin, `{"learning": "auto"}`, 200)
	c.call("POST", "/v1/teams", admin, `{"name": "support"}`, 201)
	agentID := c.call("POST", "/v1/agents", admin, `{"name": "Ada", "team": "support"}`, 201)["id"].(string)
	c.call("POST", "/v1/knowledge-bases", admin, `{"name": "banking"}`, 201)
	var records []map[string]string
	for _, intent := range intents {
		records = append(records, map[string]string{"id": intent + "-0", "question": byIntent[intent][0], "intent": intent})
	}
	body, _ := json.Marshal(map[string]any{"records": records})
	c.call("POST", "/v1/knowledge-bases/banking/uploads", admin, string(body), 200)

	runner := evals.NewRunner(db, engine, know, quiet)
	taught := 0
	outcomes := map[string]int{}
	t.Logf("| taught per intent | examples per intent | resolutions | hit@1 | hit@5 | coverage @95%% | threshold | AUROC | teaching time |")
	t.Logf("|---|---|---|---|---|---|---|---|---|")
	for _, step := range learningSteps {
		start := time.Now()
		for ; taught < step; taught++ {
			for _, intent := range intents {
				if taught+1 >= len(byIntent[intent]) {
					continue
				}
				q := byIntent[intent][taught+1]
				ans := c.call("POST", "/v1/answer", keys[parley.RoleWidget], fmt.Sprintf(`{"message": {"text": %q}}`, q), 200)
				esc, _ := ans["escalation"].(map[string]any)
				if esc == nil {
					outcomes["answered, not escalated"]++
					continue
				}
				res := c.call("POST", "/v1/escalations/"+esc["id"].(string)+"/resolve", keys[parley.RoleAgent],
					fmt.Sprintf(`{"agent_id": %q, "reply": "Here is how.", "answered_by": {"group": %q}}`, agentID, parley.IntentGroupPrefix+intent), 200)
				l, _ := res["learning"].(map[string]any)
				switch {
				case l == nil:
					outcomes["no learning"]++
				case l["phrasing"] != nil:
					outcomes[l["phrasing"].(map[string]any)["status"].(string)]++
				default:
					outcomes["skipped "+fmt.Sprint(l["skipped"])]++
				}
			}
		}
		teach := time.Since(start)
		cur, err := db.Workspace(ctx, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := runner.Evaluate(ctx, suite, cur, evals.Options{Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteConversations(ctx, ws.ID); err != nil {
			t.Fatal(err)
		}
		auroc := "n/a"
		if rep.Calibration.AUROC != nil {
			auroc = fmt.Sprintf("%.3f", *rep.Calibration.AUROC)
		}
		t.Logf("| %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %s | %s |", step, step+1, step*len(intents),
			rep.Retrieval.HitAt1, rep.Retrieval.HitAt5, rep.Calibration.Coverage, rep.Calibration.Threshold, auroc, teach.Round(time.Second))
	}
	t.Logf("resolutions: %v", outcomes)
	if outcomes[parley.PhrasingAdded] == 0 {
		t.Fatalf("no phrasing was learned: %v", outcomes)
	}

	// The control: the same examples uploaded as knowledge, unmasked, in a
	// workspace of their own. Learning through resolutions should come
	// close to it.
	uploadCurve(t, db, know, runner, suite, byIntent, intents, learningSteps[1:])
}

// TestFewShotBanking77 is the control arm of TestLearningCurveBanking77
// alone, in a few minutes instead of about 35 (make bench-fewshot): for 1,
// 2, 4 and 11 training questions per intent (the first ones of train.csv in
// file order), the same knowledge uploaded directly into a fresh workspace,
// then the 3,080 test questions through the engine.
func TestFewShotBanking77(t *testing.T) {
	b := newBanking77Bench(t, "bench-fewshot")
	uploadCurve(t, b.db, b.know, evals.NewRunner(b.db, b.engine, b.know, b.quiet), b.suite, b.byIntent, b.intents, []int{0, 1, 3, 10})
}

// banking77Bench is what the Banking77 learning benchmarks share: the
// training questions by intent, the suite with the test questions as
// cases, and a real engine and knowledge service on the test database.
type banking77Bench struct {
	byIntent map[string][]string
	intents  []string
	suite    *evals.Suite
	db       *postgres.DB
	engine   *reply.Engine
	know     *knowledge.Service
	quiet    *slog.Logger
}

// newBanking77Bench skips the test unless PARLEY_BANKING77 names the data
// set (make target sets it).
func newBanking77Bench(t *testing.T, target string) *banking77Bench {
	t.Helper()
	dir := os.Getenv("PARLEY_BANKING77")
	if dir == "" {
		t.Skipf("set PARLEY_BANKING77 to the Banking77 folder (make %s does)", target)
	}
	b := &banking77Bench{}
	b.byIntent, b.intents = readTrain(t, filepath.Join(dir, "train.csv"))
	var err error
	if b.suite, err = evals.LoadSuite("suites/banking77/suite.json"); err != nil {
		t.Fatal(err)
	}
	b.suite.Cases.Path = filepath.Join(dir, "test.csv")
	b.db = pgtest.DB(t)
	b.quiet = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	embedder := retrieval.NewLocal()
	b.engine = reply.New(b.db, embedder, reply.Options{Language: reply.NewLanguageDetector(), Classifiers: b.db, Calibrations: b.db, Logger: b.quiet})
	b.know = knowledge.New(b.db, ingest.NewPipeline(b.db, embedder, ingest.NewChunker(tok, ingest.ChunkOptions{})),
		retrieval.NewTrainer(b.db, retrieval.TrainOptions{}), embedder.Model(), b.quiet).WithCalibrator(b.engine)
	return b
}

// uploadCurve uploads, for each step, the first step+1 training questions
// of every intent as knowledge into a fresh workspace and runs the suite's
// cases through the engine: hit@1, hit@5 and coverage at 95% precision.
func uploadCurve(t *testing.T, db *postgres.DB, know *knowledge.Service, runner *evals.Runner, suite *evals.Suite,
	byIntent map[string][]string, intents []string, steps []int) {
	t.Helper()
	ctx := context.Background()
	t.Logf("| control: examples per intent uploaded | hit@1 | hit@5 | coverage @95%% |")
	t.Logf("|---|---|---|---|")
	for _, step := range steps {
		ctl := pgtest.Workspace(t)
		kb, _, err := db.EnsureKB(ctx, ctl.ID, "banking")
		if err != nil {
			t.Fatal(err)
		}
		var docs []ingest.Document
		for _, intent := range intents {
			for i, q := range byIntent[intent][:min(step+1, len(byIntent[intent]))] {
				id := fmt.Sprintf("%s-%d", intent, i)
				docs = append(docs, ingest.Document{ExternalID: id, Kind: ingest.KindFAQ, Question: q, Intent: intent, Origin: id})
			}
		}
		if _, err := know.Ingest(ctx, ingest.Request{WorkspaceID: ctl.ID, KBID: kb.ID, Docs: docs}); err != nil {
			t.Fatal(err)
		}
		rep, err := runner.Evaluate(ctx, suite, ctl, evals.Options{Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("| %d | %.3f | %.3f | %.3f |", step+1, rep.Retrieval.HitAt1, rep.Retrieval.HitAt5, rep.Calibration.Coverage)
	}
}

// readTrain reads Banking77's train.csv (text, category): the questions
// of each intent in file order, and the intents in order of first
// appearance.
func readTrain(t *testing.T, path string) (map[string][]string, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byIntent := map[string][]string{}
	var intents []string
	for _, r := range rows[1:] {
		text, intent := strings.TrimSpace(r[0]), strings.TrimSpace(r[1])
		if _, ok := byIntent[intent]; !ok {
			intents = append(intents, intent)
		}
		byIntent[intent] = append(byIntent[intent], text)
	}
	return byIntent, intents
}

// client calls the API and fails the test on an unexpected status.
type client struct {
	t   *testing.T
	url string
}

func (c *client) call(method, path, key, body string, want int) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}
