package evals_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// Each retriever must find answers on its own: the full-text leg matches
// paraphrases (any of their words, not all), and fusing both is at least as
// good as the better one. Measured on the suites' single questions.
func TestRetrieverLegs(t *testing.T) {
	for _, tt := range []struct {
		suite   string
		minText float64 // the full-text leg alone, hit@1
	}{
		{"sample", 0.4},
		{"velotta", 0.4},
		{"brizo", 0.4},
	} {
		t.Run(tt.suite, func(t *testing.T) {
			ctx := context.Background()
			db := pgtest.DB(t)
			_, runner := sampleRunner(t, db)
			suite, err := evals.LoadSuite("suites/" + tt.suite + "/suite.json")
			if err != nil {
				t.Fatal(err)
			}
			ws, err := runner.Prepare(ctx, suite, pgtest.Workspace(t).Name)
			if err != nil {
				t.Fatal(err)
			}
			cases, err := suite.LoadCases()
			if err != nil {
				t.Fatal(err)
			}
			embedder, detector := retrieval.NewLocal(), reply.NewLanguageDetector()
			var n, text, vector, fused int
			for _, c := range cases {
				if c.Escalate || len(c.Messages) > 0 || c.Intent == "" {
					continue
				}
				vec, err := embedder.Embed(ctx, []string{c.Query})
				if err != nil {
					t.Fatal(err)
				}
				langs := reply.SearchLanguages(detector.Detect(c.Query, ws.Settings.DefaultLanguage()), ws.Settings)
				hits, err := db.Search(ctx, parley.SearchQuery{WorkspaceID: ws.ID, Model: embedder.Model(),
					Vector: vec[0], Text: c.Query, Languages: langs, Limit: reply.SearchLimit})
				if err != nil {
					t.Fatal(err)
				}
				n++
				for _, h := range hits {
					if h.TextRank == 1 && strings.EqualFold(h.Intent, c.Intent) {
						text++
					}
					if h.VectorRank == 1 && strings.EqualFold(h.Intent, c.Intent) {
						vector++
					}
				}
				if top, ok := retrieval.Rank(hits, retrieval.RankOptions{}).Top(); ok && strings.EqualFold(top.Intent, c.Intent) {
					fused++
				}
			}
			share := func(k int) float64 { return float64(k) / float64(n) }
			t.Logf("%s, %d questions, hit@1: full text %.3f, vector %.3f, fused %.3f", tt.suite, n, share(text), share(vector), share(fused))
			if share(text) < tt.minText {
				t.Errorf("full-text leg alone: hit@1 %.3f, want at least %.2f", share(text), tt.minText)
			}
			if share(fused) < max(share(text), share(vector))-0.02 {
				t.Errorf("fused hit@1 %.3f is below the better leg (text %.3f, vector %.3f)", share(fused), share(text), share(vector))
			}
		})
	}
}
