// Package retrieval finds the knowledge that answers a question: texts are
// embedded into vectors, stored beside their text, and searched by cosine
// nearest neighbours.
package retrieval

import "context"

// Embedder turns a batch of texts into L2-normalised vectors of Dimensions() floats.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the embedder and model that made a vector, e.g. "local-v1"; it is stored beside every vector.
	Model() string
	Dimensions() int
}
