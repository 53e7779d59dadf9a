package openai

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// EmbedBatch is how many texts go into one embeddings request.
const EmbedBatch = 128

// Embedder is a retrieval.Embedder on an OpenAI-compatible embeddings
// endpoint.
type Embedder struct {
	cfg    Config
	dims   int
	send   bool // send dims as the dimensions parameter
	client *openai.Client
	retry  *retrier
}

var _ retrieval.Embedder = (*Embedder)(nil)

// NewEmbedder returns an embedder for cfg whose vectors must have dims
// floats. The dimensions parameter, which shortens vectors, is sent only to
// the models that take it (OpenAI's text-embedding-3 family): other models
// and servers reject or ignore it, and their vectors are checked instead.
func NewEmbedder(cfg Config, dims int) (*Embedder, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if dims <= 0 {
		return nil, fmt.Errorf("openai embedder: dimensions must be positive, got %d", dims)
	}
	return &Embedder{
		cfg: cfg, dims: dims, send: strings.HasPrefix(cfg.Model, "text-embedding-3"),
		client: cfg.client(), retry: newRetrier(cfg),
	}, nil
}

// Model is "openai:" and the model name, with ":" and the dimensions when
// the vectors are shortened to them: stored vectors are only compared with
// vectors of the same Model.
func (e *Embedder) Model() string {
	if e.send {
		return "openai:" + e.cfg.Model + ":" + strconv.Itoa(e.dims)
	}
	return "openai:" + e.cfg.Model
}

// Dimensions returns the configured vector size.
func (e *Embedder) Dimensions() int { return e.dims }

func (e *Embedder) what() string { return "the embedding model " + e.cfg.Model }

// Embed returns one L2-normalised vector per text, in batches of
// EmbedBatch texts.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += EmbedBatch {
		batch := texts[start:min(start+EmbedBatch, len(texts))]
		vecs, err := e.embedBatch(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed texts %d-%d of %d: %w", start+1, start+len(batch), len(texts), err)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (e *Embedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	req := openai.EmbeddingRequestStrings{Input: make([]string, len(texts)), Model: openai.EmbeddingModel(e.cfg.Model)}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			t = " " // the API rejects empty input
		}
		req.Input[i] = t
	}
	if e.send {
		req.Dimensions = e.dims
	}
	callCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	var resp openai.EmbeddingResponse
	err := e.retry.do(callCtx, func(ctx context.Context) error {
		var err error
		resp, err = e.client.CreateEmbeddings(ctx, req)
		return err
	})
	if err != nil {
		return nil, translate(ctx, err, e.what(), e.cfg.Timeout)
	}
	if len(resp.Data) != len(texts) {
		return nil, parley.Errorf(parley.EUnavailable, "%s returned %d vectors for %d texts", e.what(), len(resp.Data), len(texts))
	}
	vecs := make([][]float32, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(texts) || vecs[d.Index] != nil {
			return nil, parley.Errorf(parley.EUnavailable, "%s returned a vector with a bad index %d", e.what(), d.Index)
		}
		if len(d.Embedding) != e.dims {
			return nil, parley.Errorf(parley.EUnavailable,
				"%s returned vectors of %d dimensions, but %d are configured: set PARLEY_EMBED_DIMENSIONS to the model's vector size",
				e.what(), len(d.Embedding), e.dims)
		}
		if !retrieval.NormaliseL2(d.Embedding) {
			return nil, parley.Errorf(parley.EUnavailable, "%s returned a zero or non-finite vector", e.what())
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}
