package evals_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// Banking77 made into a workspace of the shape of a real FAQ with example
// phrasings, with intents it does not cover (as CLINC150's out-of-scope
// questions): every eighth intent by name is left out of the knowledge
// (10 of 77, from the fourth; PARLEY_HELDOUT_SPLIT=0..7 starts from
// another, for eight disjoint splits of 9 or 10), and their test questions
// must escalate; each other intent gets one FAQ entry (its first training
// question, with an answer text) and its other training questions as
// example phrasings. Run at default settings, after the knowledge
// service's calibration, it measures what the defaults do with
// out-of-scope questions on the workspace's own subject. It reads
// ../shared/datasets (not in the repository); PARLEY_HELDOUT_REPORT=folder
// also writes the report there:
//
//	PARLEY_BANKING77=/path/to/banking77 go test -run TestBanking77HeldOutIntents -v -timeout 30m ./evals/
func TestBanking77HeldOutIntents(t *testing.T) {
	dir := os.Getenv("PARLEY_BANKING77")
	if dir == "" {
		t.Skip("set PARLEY_BANKING77 to the Banking77 folder (train.csv, test.csv)")
	}
	train, test := readCSV(t, filepath.Join(dir, "train.csv")), readCSV(t, filepath.Join(dir, "test.csv"))
	var intents []string
	for _, r := range train {
		if !slices.Contains(intents, r[1]) {
			intents = append(intents, r[1])
		}
	}
	slices.Sort(intents)
	split := 3
	if v := os.Getenv("PARLEY_HELDOUT_SPLIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 7 {
			t.Fatalf("PARLEY_HELDOUT_SPLIT=%q: want 0 to 7", v)
		}
		split = n
	}
	out := map[string]bool{}
	for i := split; i < len(intents); i += 8 {
		out[intents[i]] = true
	}
	faq := [][]string{{"id", "question", "answer", "intent"}}
	examples := [][]string{{"question", "intent"}}
	seen := map[string]bool{}
	for _, r := range train {
		switch q, intent := r[0], r[1]; {
		case out[intent]:
		case !seen[intent]:
			seen[intent] = true
			faq = append(faq, []string{intent, q, "(Our answer about " + strings.ReplaceAll(intent, "_", " ") + ".)", intent})
		default:
			examples = append(examples, []string{q, intent})
		}
	}
	cases := [][]string{{"text", "category"}}
	for _, r := range test {
		if out[r[1]] {
			r = []string{r[0], "oos"}
		}
		cases = append(cases, r)
	}
	suiteDir := t.TempDir()
	writeCSV(t, filepath.Join(suiteDir, "faq.csv"), faq)
	writeCSV(t, filepath.Join(suiteDir, "examples.csv"), examples)
	writeCSV(t, filepath.Join(suiteDir, "cases.csv"), cases)
	manifest := map[string]any{
		"name":      "banking77-heldout",
		"knowledge": []map[string]string{{"path": "faq.csv", "kind": "faq"}, {"path": "examples.csv", "kind": "faq"}},
		"cases": map[string]any{"path": "cases.csv", "columns": map[string]string{"query": "text", "intent": "category"},
			"escalate_label": "oos"},
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(suiteDir, "suite.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	db := pgtest.DB(t)
	suite, runner := suiteRunner(t, db, filepath.Join(suiteDir, "suite.json"), true)
	ws := pgtest.Workspace(t)
	rep, err := runner.Run(context.Background(), suite, evals.Options{Workspace: ws.Name})
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PARLEY_HELDOUT_REPORT"); dir != "" {
		if err := evals.WriteFiles(dir, rep); err != nil {
			t.Fatal(err)
		}
	}
	cal, _, err := db.Calibration(context.Background(), ws.ID, retrieval.LocalModel)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fitted: threshold %.3f, similarity bar %.3f, no-match floor %.3f (precision %.3f, coverage %.3f of %d own questions; escalation recall %.3f on %d out-of-scope and %d off-subject ones)",
		cal.Threshold, cal.AnswerSimilarity, cal.MinSimilarity, cal.Precision, cal.Coverage, cal.Positives, cal.EscalationRecall, cal.Negatives, cal.OffSubject)
	d := rep.Decisions
	t.Logf("%d intents left out; %d cases (%d must escalate): hit@1 %.3f; at default settings answered %.3f, precision %.3f, coverage %.3f, escalation recall %.3f",
		len(out), rep.Cases, rep.MustEscal, rep.Retrieval.HitAt1, d.AnsweredShare, d.Precision, d.Coverage, d.EscalationRecall)
	if d.Precision < 0.95 {
		t.Errorf("answered precision %.3f at default settings, want at least 0.95", d.Precision)
	}
	if d.EscalationRecall < 0.95 {
		t.Errorf("escalation recall %.3f at default settings, want at least 0.95", d.EscalationRecall)
	}
}

func readCSV(t *testing.T, path string) [][]string {
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
	return rows[1:] // text, category
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
