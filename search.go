package parley

// SearchQuery asks for the chunks nearest to a question in one workspace.
type SearchQuery struct {
	WorkspaceID string
	Model       string    // only vectors of this embedding model are searched
	Vector      []float32 // the question, embedded by Model
	Text        string    // the question, for full-text search
	// Languages the question may be in (ISO 639-1), likeliest first: its
	// words are stemmed and stop words dropped in each.
	Languages []string
	Limit     int // per retriever (vector and full-text)
}

// Hit is a chunk found for a question, with its rank in each retriever
// (0 when that retriever did not return it).
type Hit struct {
	ChunkID     int64
	SourceID    int64
	Kind        string
	ExternalID  string
	Title       string
	URL         string
	Intent      string
	Tags        []string
	GroupKey    string
	Text        string
	Answer      string
	SectionPath string
	Similarity  float64 // cosine similarity of the vectors, in [-1, 1]
	VectorRank  int
	TextScore   float64 // full-text rank (ts_rank_cd)
	TextRank    int
}
