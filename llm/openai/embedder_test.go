package openai_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/llm/openai"
	"github.com/parleyhq/parley/llm/openai/openaitest"
)

func newEmbedder(t *testing.T, srv *openaitest.Server, model string, dims int) *openai.Embedder {
	t.Helper()
	e, err := openai.NewEmbedder(openai.Config{BaseURL: srv.BaseURL(), APIKey: "sk-embed", Model: model, Timeout: 5 * time.Second, MaxRetries: 2}, dims)
	if err != nil {
		t.Fatal(err)
	}
	openai.SetSleep(e, (&sleeps{}).sleep)
	return e
}

func TestEmbedBatchesAndNormalises(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Embeddings(16))
	e := newEmbedder(t, srv, "nomic-embed-text", 16)
	texts := make([]string, 300)
	for i := range texts {
		texts[i] = fmt.Sprintf("question number %d about parcels", i)
	}
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	var sizes []int
	for _, r := range srv.Requests() {
		in, _ := r.Body["input"].([]any)
		sizes = append(sizes, len(in))
		if r.Body["dimensions"] != nil {
			t.Errorf("dimensions sent to a model that does not take it: %v", r.Body["dimensions"])
		}
	}
	if fmt.Sprint(sizes) != "[128 128 44]" {
		t.Fatalf("batches %v, want [128 128 44]", sizes)
	}
	for i, v := range vecs {
		want := openaitest.Vector(texts[i], 16)
		var norm, dot, wantNorm float64
		for j := range v {
			norm += float64(v[j]) * float64(v[j])
			dot += float64(v[j]) * want[j]
			wantNorm += want[j] * want[j]
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Fatalf("vector %d has norm² %f", i, norm)
		}
		if cos := dot / math.Sqrt(wantNorm); math.Abs(cos-1) > 1e-5 {
			t.Fatalf("vector %d is not the one for its text (cos %f): order lost", i, cos)
		}
	}
	if e.Model() != "openai:nomic-embed-text" || e.Dimensions() != 16 {
		t.Fatalf("Model %q, Dimensions %d", e.Model(), e.Dimensions())
	}
}

func TestEmbedSendsDimensionsToTextEmbedding3(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Embeddings(8), openaitest.Fail(429, "busy", "Retry-After", "0"))
	e := newEmbedder(t, srv, "text-embedding-3-small", 8)
	if _, err := e.Embed(context.Background(), []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Body["dimensions"] != 8.0 || reqs[1].Path != "/v1/embeddings" {
		t.Fatalf("requests %+v", reqs)
	}
	if e.Model() != "openai:text-embedding-3-small:8" {
		t.Fatalf("Model %q", e.Model())
	}
}

func TestEmbedWrongDimensions(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Embeddings(12))
	e := newEmbedder(t, srv, "nomic-embed-text", 768)
	_, err := e.Embed(context.Background(), []string{"hello"})
	if parley.ErrorCode(err) != parley.EUnavailable || !strings.Contains(parley.ErrorMessage(err), "vectors of 12 dimensions, but 768 are configured") ||
		!strings.Contains(parley.ErrorMessage(err), "PARLEY_EMBED_DIMENSIONS") {
		t.Fatalf("err %v", err)
	}
}

func TestEmbedFailure(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t, openaitest.Fail(500, "down"))
	e := newEmbedder(t, srv, "nomic-embed-text", 8)
	_, err := e.Embed(context.Background(), []string{"a", "b"})
	if parley.ErrorCode(err) != parley.EUnavailable || !strings.Contains(err.Error(), "embed texts 1-2 of 2") {
		t.Fatalf("err %v", err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Fatalf("%d requests, want 3 (two retries)", n)
	}
}

func TestEmbedRejectsZeroVector(t *testing.T) {
	t.Parallel()
	zero := func(w http.ResponseWriter, r *http.Request, req openaitest.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object": "list", "model": "nomic-embed-text", "data": [{"object": "embedding", "index": 0, "embedding": [0, 0, 0, 0]}]}`)
	}
	srv := openaitest.New(t, zero)
	e := newEmbedder(t, srv, "nomic-embed-text", 4)
	_, err := e.Embed(context.Background(), []string{"hello"})
	if parley.ErrorCode(err) != parley.EUnavailable || !strings.Contains(parley.ErrorMessage(err), "returned a zero or non-finite vector") {
		t.Fatalf("err %v", err)
	}
}
