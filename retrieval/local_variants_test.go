package retrieval_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/retrieval"
)

// TestLocalVariantsBanking77 compares feature variants of the local embedder
// (local_export_test.go) on a dev split of Banking77 train (every 5th train
// question asks, the other 80% are the knowledge) and on the official test
// split. Tune on dev; test is reported for reference. Slow (seconds per
// variant), so it runs only with PARLEY_LOCAL_VARIANTS=1 and PARLEY_BANKING77:
//
//	PARLEY_LOCAL_VARIANTS=1 PARLEY_BANKING77=/path/to/banking77 go test -run TestLocalVariantsBanking77 -v ./retrieval/
func TestLocalVariantsBanking77(t *testing.T) {
	if os.Getenv("PARLEY_LOCAL_VARIANTS") == "" {
		t.Skip("set PARLEY_LOCAL_VARIANTS=1 (and PARLEY_BANKING77) to compare embedder variants")
	}
	train, test := localLoadBanking77(t)
	var devKnow, devAsk localLabelled
	for i := range train.texts {
		d := &devKnow
		if i%5 == 0 {
			d = &devAsk
		}
		d.texts = append(d.texts, train.texts[i])
		d.labels = append(d.labels, train.labels[i])
	}
	only := os.Getenv("PARLEY_LOCAL_VARIANTS")
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-34s | %-34s | %-34s | %s\n", "variant", "dev: top1  vote   ans95  ans95s", "test: top1  vote   ans95  ans95s", "texts/s")
	for _, name := range retrieval.LocalVariants() {
		if only != "1" && !strings.Contains(name, only) && name != "default" {
			continue
		}
		emb := retrieval.NewLocalVariant(name)
		k, _ := localEmbedTimed(t, emb, devKnow.texts)
		q, _ := localEmbedTimed(t, emb, devAsk.texts)
		dev := localEvaluateKNN(k, devKnow.labels, q, devAsk.labels)
		k, took := localEmbedTimed(t, emb, train.texts)
		q, _ = localEmbedTimed(t, emb, test.texts)
		r := localEvaluateKNN(k, train.labels, q, test.labels)
		fmt.Fprintf(&b, "%-34s | %.4f %.4f %.4f %.4f | %.4f %.4f %.4f %.4f | %6.0f\n", name,
			dev.top1, dev.vote, dev.answered95Share, dev.answered95Sharp, r.top1, r.vote, r.answered95Share, r.answered95Sharp,
			float64(len(train.texts))/took.Seconds())
	}
	t.Log(b.String())
}
