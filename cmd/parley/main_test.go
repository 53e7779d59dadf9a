package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/llm/openai/openaitest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

func TestMain(m *testing.M) {
	// The crash and shutdown tests run `parley serve` in a child process:
	// this binary, re-executed with PARLEY_TEST_CHILD set, run as main runs
	// it (signals included).
	if os.Getenv("PARLEY_TEST_CHILD") == "serve" {
		os.Exit(runProcess([]string{"serve"}))
	}
	os.Exit(pgtest.Run(m))
}

// cli runs the parley command line against the test database.
func cli(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case "PARLEY_DATABASE_URL":
			return pgtest.URL(t)
		case "PARLEY_LOG_FORMAT":
			return "text"
		}
		return ""
	}
	var out, errOut syncbuf.Buffer
	err = run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PARLEY_DATABASE_URL":   "mysql://nope",
		"PARLEY_DB_MAX_CONNS":   "zero",
		"PARLEY_AUTO_MIGRATE":   "perhaps",
		"PARLEY_LOG_FORMAT":     "xml",
		"PARLEY_READ_TIMEOUT":   "-3s",
		"PARLEY_MAX_BODY_BYTES": "12",

		"PARLEY_WEBHOOK_ALLOW_PRIVATE":   "perhaps",
		"PARLEY_OUTBOX_RETENTION":        "a week",
		"PARLEY_OUTBOX_DEAD_RETENTION":   "0s",
		"PARLEY_OUTBOX_CLEANUP_INTERVAL": "-1h",
		"PARLEY_INGEST_JOBS":             "0",
		"PARLEY_INGEST_JOB_TIMEOUT":      "forever",
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for k := range env {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
}

func TestConfigWebhookSettings(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookAllowPrivate || cfg.OutboxRetention != 168*time.Hour || cfg.OutboxDeadRetention != 720*time.Hour || cfg.OutboxCleanupInterval != time.Hour {
		t.Fatalf("defaults: allow private %v, retention %s, dead %s, every %s; want false, 168h, 720h, 1h",
			cfg.WebhookAllowPrivate, cfg.OutboxRetention, cfg.OutboxDeadRetention, cfg.OutboxCleanupInterval)
	}
	env := map[string]string{
		"PARLEY_WEBHOOK_ALLOW_PRIVATE": "true", "PARLEY_OUTBOX_RETENTION": "24h",
		"PARLEY_OUTBOX_DEAD_RETENTION": "48h", "PARLEY_OUTBOX_CLEANUP_INTERVAL": "10m",
	}
	cfg, err = loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.WebhookAllowPrivate || cfg.OutboxRetention != 24*time.Hour || cfg.OutboxDeadRetention != 48*time.Hour || cfg.OutboxCleanupInterval != 10*time.Minute {
		t.Fatalf("set: allow private %v, retention %s, dead %s, every %s", cfg.WebhookAllowPrivate, cfg.OutboxRetention, cfg.OutboxDeadRetention, cfg.OutboxCleanupInterval)
	}
}

func TestConfigIngestJobs(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil || cfg.IngestJobs != 2 || cfg.IngestJobTimeout != 10*time.Minute {
		t.Fatalf("defaults: %d jobs, timeout %s (%v); want 2, 10m", cfg.IngestJobs, cfg.IngestJobTimeout, err)
	}
	env := map[string]string{"PARLEY_INGEST_JOBS": "5", "PARLEY_INGEST_JOB_TIMEOUT": "90s"}
	cfg, err = loadConfig(func(k string) string { return env[k] })
	if err != nil || cfg.IngestJobs != 5 || cfg.IngestJobTimeout != 90*time.Second {
		t.Fatalf("set: %d jobs, timeout %s (%v); want 5, 90s", cfg.IngestJobs, cfg.IngestJobTimeout, err)
	}
}

func TestConfigNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PARLEY_DATABASE_URL": "postgres://parley:s3cret-db@127.0.0.1:5432/parley",
		"PARLEY_LLM_BASE_URL": "http://127.0.0.1:9/v1", "PARLEY_LLM_MODEL": "m", "PARLEY_LLM_API_KEY": "sk-s3cret-llm",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	newLogger(cfg, &buf).Info("starting", "config", cfg)
	if s := buf.String(); strings.Contains(s, "s3cret") {
		t.Fatalf("a secret reached the log: %s", s)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"frobnicate"},
		{"keys"},
		{"keys", "create", "--workspace", "acme"},
		{"ingest", "faq.csv"},
		{"eval"},
	}
	for _, args := range tests {
		_, _, err := cli(t, nil, args...)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("parley %s: err %v (exit %d), want a usage error (exit 2)", strings.Join(args, " "), err, exitCode(err))
		}
	}
}

// Every command's --help prints its usage to stdout and exits 0; a flag it
// does not have prints the usage to stderr and exits 2.
func TestHelpAndWrongFlags(t *testing.T) {
	t.Parallel()
	// A text flag's value is named for what it is ("-workspace name"), not
	// "string".
	typeOnly := regexp.MustCompile(`(?m)^\s+-\S+ (string|value)$`)
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"ingest"}, {"sync"}, {"eval"}, {"bench"}, {"demo-page"}, {"version"},
		{"keys", "create"}, {"keys", "list"}, {"keys", "revoke"}} {
		name := strings.Join(cmd, " ")
		out, errOut, err := cli(t, nil, append(cmd, "--help")...)
		if code := exitCode(err); code != 0 || !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: exit %d (%v), want 0", name, code, err)
		}
		if !strings.Contains(out, "Usage: parley "+name) || errOut != "" {
			t.Errorf("%s --help: stdout %q, stderr %q; want the usage on stdout only", name, out, errOut)
		}
		if m := typeOnly.FindString(out); m != "" {
			t.Errorf("%s --help: %q names a type, not what the value is", name, strings.TrimSpace(m))
		}
		if strings.HasSuffix(strings.TrimSpace(out), "Flags:") || strings.Contains(out, "Flags:\n\n") {
			t.Errorf("%s --help: a Flags: heading with no flags: %q", name, out)
		}
		out, errOut, err = cli(t, nil, append(cmd, "--no-such-flag")...)
		if code := exitCode(err); code != 2 {
			t.Errorf("%s --no-such-flag: exit %d (%v), want 2", name, code, err)
		}
		if out != "" || !strings.Contains(errOut, "Usage: parley "+name) || !strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("%s --no-such-flag: stdout %q, stderr %q, err %v; want the usage on stderr naming the flag", name, out, errOut, err)
		}
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	out, _, err := cli(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	// A test binary has build info without VCS stamps: the module version
	// ("(devel)") and the Go version still show.
	if !strings.HasPrefix(out, "parley (devel)") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version printed %q", out)
	}
}

func TestKeysLifecycle(t *testing.T) {
	t.Parallel()
	ws := pgtest.Workspace(t).Name
	out, _, err := cli(t, nil, "keys", "create", "--workspace", ws, "--role", "agent", "--name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "prly_") || strings.Contains(key, " ") {
		t.Fatalf("last line %q is not a key alone", key)
	}
	out, _, err = cli(t, nil, "keys", "list", "--workspace", ws)
	if err != nil || !strings.Contains(out, key[:11]) || !strings.Contains(out, "active") {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	if _, _, err := cli(t, nil, "keys", "revoke", key[:11]); err != nil {
		t.Fatal(err)
	}
	out, _, _ = cli(t, nil, "keys", "list", "--workspace", ws)
	if !strings.Contains(out, "revoked") || strings.Contains(out, key) {
		t.Fatalf("after revoke:\n%s", out)
	}
	if _, _, err := cli(t, nil, "keys", "create", "--workspace", ws, "--role", "root"); err == nil {
		t.Fatal("role root accepted")
	}
}

func TestIngestThenReingestIsANoOp(t *testing.T) {
	t.Parallel()
	ws := pgtest.Workspace(t).Name
	faq := filepath.Join("..", "..", "evals", "suites", "sample", "knowledge", "faq.csv")
	out, _, err := cli(t, nil, "ingest", faq, "--workspace", ws, "--kb", "help")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "45 added") {
		t.Fatalf("first ingest: %s", out)
	}
	out, _, err = cli(t, nil, "ingest", "--workspace", ws, "--kb", "help", faq)
	if err != nil || !strings.Contains(out, "0 added, 0 updated, 45 unchanged") || !strings.Contains(out, "0 chunks embedded") {
		t.Fatalf("second ingest: %v %s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("question,answer\n\"unterminated,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli(t, nil, "ingest", bad, "--workspace", ws, "--kb", "help"); err == nil || !strings.Contains(err.Error(), "bad.csv") {
		t.Fatalf("broken CSV: %v, want an error naming the file", err)
	}
}

// A suite whose gate cannot pass makes parley eval fail; the reports are
// written all the same.
func TestEvalGateFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	knowledge, err := filepath.Abs(filepath.Join("..", "..", "evals", "suites", "sample", "knowledge", "faq.csv"))
	if err != nil {
		t.Fatal(err)
	}
	suite := `{"name": "strict", "knowledge": [{"path": "` + knowledge + `"}],
		"cases": {"path": "cases.jsonl"}, "gates": {"min_coverage": 1.01}}`
	cases := `{"id": "1", "query": "How long does delivery to Germany take?", "intent": "shipping_times"}` + "\n"
	writeSuite(t, dir, suite, cases)
	out, _, err := cli(t, nil, "eval", filepath.Join(dir, "suite.json"), "--out", filepath.Join(dir, "out"),
		"--workspace", pgtest.Workspace(t).Name)
	if err == nil || !strings.Contains(err.Error(), "gates") {
		t.Fatalf("eval with an impossible gate: %v\n%s", err, out)
	}
	for _, f := range []string{"report.json", "report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// --calibrate --apply writes the calibrated threshold to a workspace, and
// the API then uses it; --record keeps the run with a workspace.
func TestEvalCalibrateApply(t *testing.T) {
	t.Parallel()
	target := pgtest.Workspace(t)
	out, _, err := cli(t, nil, "eval", filepath.Join("..", "..", "evals", "suites", "sample", "suite.json"),
		"--out", t.TempDir(), "--workspace", pgtest.Workspace(t).Name, "--target-precision", "0.9",
		"--calibrate", "--apply", target.Name, "--record", target.Name)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ws, err := pgtest.DB(t).Workspace(context.Background(), target.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ws.Settings.AnswerThreshold == target.Settings.AnswerThreshold || !strings.Contains(out, "answer_threshold") {
		t.Fatalf("threshold still %v after --apply:\n%s", ws.Settings.AnswerThreshold, out)
	}
	runs, err := pgtest.DB(t).ListEvalRuns(context.Background(), target.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Suite != "sample" || runs[0].Version == "" || runs[0].Embedder != retrieval.LocalModel ||
		runs[0].Figures.Cases == 0 || !strings.Contains(out, "recorded as eval run") {
		t.Fatalf("recorded runs %+v, want the sample run with its version and embedder:\n%s", runs, out)
	}
}

// With a chat model configured, parley eval answers as serve does: a
// suite with generate_answers on has its answers written by the model.
func TestEvalGeneratesWithAChatModel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	knowledge, err := filepath.Abs(filepath.Join("..", "..", "evals", "suites", "sample", "knowledge"))
	if err != nil {
		t.Fatal(err)
	}
	// The FAQ with its example phrasings: from the FAQ alone the
	// workspace's calibration finds no confidence 95% precise, and the
	// bot would answer nothing.
	suite := `{"name": "generated", "knowledge": [{"path": "` + filepath.Join(knowledge, "faq.csv") + `"}, {"path": "` + filepath.Join(knowledge, "examples.csv") + `"}],
		"cases": {"path": "cases.jsonl"}, "settings": {"answer_threshold": 0, "generate_answers": true}}`
	cases := `{"id": "1", "query": "How long does delivery to Germany take?", "intent": "shipping_times"}` + "\n"
	writeSuite(t, dir, suite, cases)
	fake := openaitest.New(t, openaitest.Reply("NO_ANSWER"))
	env := map[string]string{"PARLEY_LLM_BASE_URL": fake.BaseURL(), "PARLEY_LLM_MODEL": "test-model"}
	out, _, err := cli(t, env, "eval", filepath.Join(dir, "suite.json"), "--out", filepath.Join(dir, "out"),
		"--workspace", pgtest.Workspace(t).Name)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].Path, "/chat/completions") {
		t.Fatalf("the chat model got %d requests (%v), want the one answer to write", len(reqs), reqs)
	}
}

// writeSuite writes a suite manifest and its cases.jsonl to dir.
func writeSuite(t *testing.T, dir, suite, cases string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "suite.json"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.jsonl"), []byte(cases), 0o644); err != nil {
		t.Fatal(err)
	}
}

// parley ingest follows the knowledge service's rule: a dry run leaves the
// intent classifier alone, a written ingest queues a training and waits
// for it; with --wait=false it only queues it.
func TestIngestTrainsTheClassifier(t *testing.T) {
	t.Parallel()
	ws := pgtest.Workspace(t)
	faq := filepath.Join(t.TempDir(), "faq.csv")
	csv := "question,answer,intent\n" +
		"Where is my parcel?,It is on its way.,delivery\nWhen will my order arrive?,,delivery\n" +
		"Can I get my money back?,Yes within 30 days.,refund\nHow do I return an item?,,refund\n"
	if err := os.WriteFile(faq, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	trained := func() bool {
		t.Helper()
		_, ok, err := pgtest.DB(t).ClassifierVersion(context.Background(), ws.ID, retrieval.LocalModel)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if out, _, err := cli(t, nil, "ingest", faq, "--workspace", ws.Name, "--kb", "help", "--dry-run"); err != nil || trained() {
		t.Fatalf("dry run: %v, classifier trained %v\n%s", err, trained(), out)
	}
	if out, _, err := cli(t, nil, "ingest", faq, "--workspace", ws.Name, "--kb", "help", "--wait=false"); err != nil {
		t.Fatalf("ingest --wait=false: %v\n%s", err, out)
	}
	// Queued, for whichever process works the training queue (another
	// test's may run it).
	var queued int
	if err := pgtest.DB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job
		WHERE kind = 'train' AND args->>'workspace_id' = $1`, ws.ID).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("%d training jobs queued by ingest --wait=false (%v), want 1", queued, err)
	}
	if out, _, err := cli(t, nil, "ingest", faq, "--workspace", ws.Name, "--kb", "help"); err != nil || !trained() {
		t.Fatalf("ingest: %v, classifier trained %v\n%s", err, trained(), out)
	}
}

// With an embedder that knows nothing (PARLEY_EMBEDDER=openai, a server
// returning arbitrary vectors), the calibration after the ingest finds
// that no confidence means anything: at default settings the suites'
// questions are handed to people, not answered wrongly.
func TestEvalWithAnEmbedderThatKnowsNothing(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.ArbitraryEmbeddings(64))
	env := map[string]string{"PARLEY_EMBEDDER": "openai", "PARLEY_EMBED_BASE_URL": srv.BaseURL(),
		"PARLEY_EMBED_MODEL": "knows-nothing", "PARLEY_EMBED_DIMENSIONS": "64"}
	for _, suite := range []string{"sample", "velotta", "brizo"} {
		out, _, err := cli(t, env, "eval", filepath.Join("..", "..", "evals", "suites", suite, "suite.json"),
			"--out", t.TempDir(), "--workspace", pgtest.Workspace(t).Name, "--json")
		if err != nil && !strings.Contains(err.Error(), "gates") {
			t.Fatalf("%s: %v\n%s", suite, err, out)
		}
		var rep struct {
			Cases     int `json:"cases"`
			Decisions struct {
				AnsweredShare    float64 `json:"answered_share"`
				Precision        float64 `json:"precision"`
				EscalationRecall float64 `json:"escalation_recall"`
			} `json:"decisions"`
			Retrieval struct {
				HitAt1 float64 `json:"hit_at_1"`
			} `json:"retrieval"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Cases == 0 {
			t.Fatalf("%s: report: %v\n%s", suite, err, out)
		}
		wrong := rep.Decisions.AnsweredShare * (1 - rep.Decisions.Precision)
		t.Logf("%s: answered %.3f of %d cases, precision %.3f, escalation recall %.3f, hit@1 %.3f", suite,
			rep.Decisions.AnsweredShare, rep.Cases, rep.Decisions.Precision, rep.Decisions.EscalationRecall, rep.Retrieval.HitAt1)
		if wrong > 0.02 {
			t.Errorf("%s: %.3f of the cases answered wrongly (answered %.3f, precision %.3f), want at most 0.02",
				suite, wrong, rep.Decisions.AnsweredShare, rep.Decisions.Precision)
		}
	}
}
