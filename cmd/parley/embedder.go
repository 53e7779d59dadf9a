package main

import "github.com/parleyhq/parley/retrieval"

// newEmbedder returns the configured embedder.
func newEmbedder(cfg Config) (retrieval.Embedder, error) {
	return retrieval.NewLocal(), nil
}
