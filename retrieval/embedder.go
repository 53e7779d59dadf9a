// Package retrieval ranks the knowledge that answers a question: embedders
// turn texts into vectors (the store, package postgres, keeps and searches
// them), Rank votes the search hits into answer candidates with a calibrated
// confidence, and each workspace's intent classifier, trained here, adds its
// probabilities to the vote.
package retrieval

import "context"

// Embedder turns a batch of texts into L2-normalised vectors of Dimensions() floats.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the embedder and model that made a vector, e.g. "local-v1"; it is stored beside every vector.
	Model() string
	Dimensions() int
}
