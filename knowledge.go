package parley

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// KnowledgeBase is a named collection of sources in a workspace.
type KnowledgeBase struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"-"`
	Name        string    `json:"name"`
	Sources     int       `json:"sources"`
	Chunks      int       `json:"chunks"`
	CreatedAt   time.Time `json:"created_at"`
}

// Source is one FAQ entry, article or resolved conversation.
type Source struct {
	ID          int64     `json:"id"`
	KBID        string    `json:"kb_id"`
	Kind        string    `json:"kind"`
	ExternalID  string    `json:"external_id"`
	Title       string    `json:"title"`
	URL         string    `json:"url"`
	Language    string    `json:"language"`
	Intent      string    `json:"intent"`
	Tags        []string  `json:"tags"`
	ContentHash string    `json:"content_hash"`
	Chunks      int       `json:"chunks"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Group, when set, is the answer group of all the source's chunks: a
	// phrasing learned from a resolution joins the group it was learned
	// for. Used when writing; not stored with the source.
	Group string `json:"-"`
}

// SourceRef names one source of a knowledge base by its numeric id, its
// external id, or either (both set: the request did not say which).
type SourceRef struct {
	ID         int64  // 0: not by numeric id
	ExternalID string // "": not by external id
}

// String is the ref as a message shows it: the external id quoted, or the number.
func (r SourceRef) String() string {
	if r.ExternalID != "" {
		return strconv.Quote(r.ExternalID)
	}
	return strconv.FormatInt(r.ID, 10)
}

// Chunk is a piece of a source that is embedded and searched.
type Chunk struct {
	Ordinal     int
	Text        string // what is embedded and full-text indexed
	Answer      string // what an answer built from this chunk shows
	SectionPath string
	Tokens      int
	Embedding   []float32
}

// StoredChunk is a chunk as stored, for reading (its vector left out).
type StoredChunk struct {
	ID          int64  `json:"id"`
	Ordinal     int    `json:"ordinal"`
	Text        string `json:"text"`
	Answer      string `json:"answer"`
	SectionPath string `json:"section_path"`
	Tokens      int    `json:"tokens"`
	EmbedModel  string `json:"embed_model"`
}

// SourceChunks is a source with the chunks an ingest stores for it.
type SourceChunks struct {
	Source
	Chunks []Chunk
}

// IntentGroupPrefix starts the group key of every chunk of a source with an
// intent: the labelled examples intent classifiers learn from.
const IntentGroupPrefix = "intent:"

// GroupKey names the answer a chunk leads to: paraphrases of one intent
// vote together; each section of an article is an answer of its own (an
// article's chunks must not outvote short FAQ entries by their number);
// otherwise the source is the answer.
func (s Source) GroupKey(c Chunk) string {
	switch {
	case s.Group != "":
		return s.Group
	case s.Intent != "":
		return IntentGroupPrefix + s.Intent
	case s.Kind == "article":
		return fmt.Sprintf("source:%s#%d", s.ExternalID, c.Ordinal)
	}
	return "source:" + s.ExternalID
}

// IngestTarget is what one ingest writes into: a knowledge base, with
// vectors of one embedding model, and how many chunks it will write (a
// large load is written differently: see postgres.DB.Ingest).
type IngestTarget struct {
	WorkspaceID string
	KBID        string
	Model       string
	Dims        int
	Chunks      int
}

// SourceWriter writes sources into one knowledge base inside a transaction
// the store owns: nothing is visible until the whole ingest succeeds.
type SourceWriter interface {
	// Write upserts sources by external id and replaces their chunks.
	Write(ctx context.Context, batch []SourceChunks) error
	// Prune deletes the sources whose external ids are not in keep.
	Prune(ctx context.Context, keep []string) (int, error)
}

// Origin is where a knowledge base's sources come from, so that they can
// be synced again: a website crawled from URL with Settings (the crawl's
// own JSON, see crawl.Settings), every SyncEvery when positive.
type Origin struct {
	KBID        string
	WorkspaceID string
	URL         string
	Settings    json.RawMessage
	SyncEvery   time.Duration
	// Pages is what the last crawl read, for the next one's conditional
	// requests (crawl.Validator by URL).
	Pages json.RawMessage
	// The last sync: its state ("", queued, running, succeeded, failed),
	// error, report (JSON) and when it ended; when the next one is due.
	SyncState  string
	SyncError  string
	SyncReport json.RawMessage
	SyncedAt   *time.Time
	NextSyncAt *time.Time
	UpdatedAt  time.Time
}

// OriginSync is the outcome of a sync to record: the crawl's pages (nil
// keeps the last crawl's, as after a failed sync), the error ("" when it
// succeeded) and the report (the crawl's own JSON, see crawl.Report).
type OriginSync struct {
	KBID   string
	Pages  json.RawMessage
	Error  string
	Report json.RawMessage
}
