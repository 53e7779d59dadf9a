package retrieval_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/retrieval"
)

func localEmbedOne(t testing.TB, e retrieval.Embedder, text string) []float32 {
	t.Helper()
	vecs, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatalf("Embed(%q): %v", text, err)
	}
	if len(vecs) != 1 {
		t.Fatalf("Embed(%q) gave %d vectors, want 1", text, len(vecs))
	}
	return vecs[0]
}

func localCosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func localCheckUnit(t testing.TB, e retrieval.Embedder, text string, v []float32) {
	t.Helper()
	if len(v) != e.Dimensions() {
		t.Fatalf("Embed(%q): %d dimensions, want %d", text, len(v), e.Dimensions())
	}
	var sum float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("Embed(%q)[%d] = %v", text, i, x)
		}
		sum += float64(x) * float64(x)
	}
	if n := math.Sqrt(sum); math.Abs(n-1) > 1e-5 {
		t.Fatalf("Embed(%q): norm %v, want 1", text, n)
	}
}

func TestLocalModelAndDimensions(t *testing.T) {
	e := retrieval.NewLocal()
	if e.Model() != "local-v1" {
		t.Errorf("Model() = %q, want local-v1", e.Model())
	}
	if d := e.Dimensions(); d < 64 || d > 2000 {
		t.Errorf("Dimensions() = %d, want 64..2000 (pgvector HNSW limit)", d)
	}
}

func TestLocalDeterministicAndBatchIndependent(t *testing.T) {
	e := retrieval.NewLocal()
	texts := []string{"How do I reset my password?", "Where is my parcel?", "", "Refund please!!"}
	batch, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(batch), len(texts))
	}
	// Same text, alone, in another batch, from another instance: same vector.
	other := retrieval.NewLocal()
	for i, text := range texts {
		for _, v := range [][]float32{localEmbedOne(t, e, text), localEmbedOne(t, other, text)} {
			for d := range v {
				if v[d] != batch[i][d] {
					t.Fatalf("Embed(%q) differs between calls at dimension %d", text, d)
				}
			}
		}
	}
	// Batch order preserved: reversed batch gives reversed vectors.
	rev := []string{texts[3], texts[2], texts[1], texts[0]}
	rb, err := e.Embed(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rev {
		if localCosine(rb[i], batch[len(texts)-1-i]) < 1-1e-6 {
			t.Fatalf("vector %d of the reversed batch is not that of %q", i, rev[i])
		}
	}
}

func TestLocalUnitNorm(t *testing.T) {
	e := retrieval.NewLocal()
	for _, text := range []string{
		"How do I reset my password?",
		"a",
		"the the the the",
		"1234567890",
		"$$$ €€€ £",
		strings.Repeat("card payment declined ", 2000),
		"Pourquoi ma carte a-t-elle été refusée ?",
		"我的卡被拒绝了",
		"Почему моя карта отклонена?",
	} {
		localCheckUnit(t, e, text, localEmbedOne(t, e, text))
	}
}

func TestLocalEmptyTextIsAFixedUnitVector(t *testing.T) {
	e := retrieval.NewLocal()
	empty := localEmbedOne(t, e, "")
	localCheckUnit(t, e, "", empty)
	for _, text := range []string{"   ", "?!.,;", "\n\t"} {
		v := localEmbedOne(t, e, text)
		localCheckUnit(t, e, text, v)
		if localCosine(v, empty) < 1-1e-6 {
			t.Errorf("Embed(%q) differs from the empty text's vector", text)
		}
	}
	// It must not look like real content.
	if c := localCosine(empty, localEmbedOne(t, e, "How do I reset my password?")); c > 0.3 {
		t.Errorf("empty vs a question: localCosine %.3f, want near 0", c)
	}
}

func TestLocalTypoAndVariantRobustness(t *testing.T) {
	e := retrieval.NewLocal()
	cases := []struct{ query, near, far string }{
		{"How do I reset my pasword", "How do I reset my password?", "Where is my parcel?"},
		{"my card hasnt arived yet", "My card has not arrived yet", "How do I close my account?"},
		{"I want my money back", "Can I get a refund of my money?", "How do I change my PIN?"},
		{"CAFÉ purchase refunded", "cafe purchase refund", "exchange rate for euros"},
		{"cant log in", "I cannot login to the app", "Top up by bank transfer"},
	}
	for _, c := range cases {
		q, n, f := localEmbedOne(t, e, c.query), localEmbedOne(t, e, c.near), localEmbedOne(t, e, c.far)
		if cn, cf := localCosine(q, n), localCosine(q, f); cn <= cf {
			t.Errorf("%q: localCosine to %q is %.3f, not above %.3f to %q", c.query, c.near, cn, cf, c.far)
		}
	}
}

func TestLocalContextCancelled(t *testing.T) {
	e := retrieval.NewLocal()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vecs, err := e.Embed(ctx, []string{"hello", "world"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Embed with a cancelled context: err = %v, want context.Canceled", err)
	}
	if vecs != nil {
		t.Errorf("Embed with a cancelled context returned vectors")
	}
}

func TestLocalEmptyBatch(t *testing.T) {
	vecs, err := retrieval.NewLocal().Embed(context.Background(), nil)
	if err != nil || len(vecs) != 0 {
		t.Fatalf("Embed(nil) = %d vectors, %v; want none, nil", len(vecs), err)
	}
}

func FuzzLocalEmbed(f *testing.F) {
	for _, s := range []string{
		"", "How do I reset my password?", "don't", "'''", "a'b'c", "ﬁnance ＦＵＬＬ",
		"我的卡被拒绝了", "ข้อความภาษาไทย", "नमस्ते दुनिया", "مرحبا بالعالم", "\xff\xfe invalid utf8",
		"e\u0301\u0301\u0301", "12abc34", "$5 £3 €2", "\u200b\u200d", strings.Repeat("x", 3000),
	} {
		f.Add(s)
	}
	e := retrieval.NewLocal()
	f.Fuzz(func(t *testing.T, text string) {
		v := localEmbedOne(t, e, text)
		localCheckUnit(t, e, text, v)
		if utf8.ValidString(text) {
			again := localEmbedOne(t, e, text)
			if localCosine(v, again) < 1-1e-5 {
				t.Fatalf("Embed(%q) is not deterministic", text)
			}
		}
	})
}

func BenchmarkLocalEmbed(b *testing.B) {
	e := retrieval.NewLocal()
	texts := []string{
		"How do I reset my password?",
		"I am still waiting on my card?",
		"What can I do if my card still hasn't arrived after 2 weeks?",
		"Why was I charged an extra fee for a cash withdrawal abroad?",
		"Can I top up my account with Apple Pay, and how long does it take?",
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.Embed(ctx, texts[i%len(texts):i%len(texts)+1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
