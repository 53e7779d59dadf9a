package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// Store is what the pipeline needs from the database.
type Store interface {
	SourceHashes(ctx context.Context, workspaceID, kbID string) (map[string]string, error)
	EnsureVectorIndex(ctx context.Context, model string, dims int) error
	Ingest(ctx context.Context, target parley.IngestTarget, fn func(parley.SourceWriter) error) error
}

// Pipeline chunks documents, embeds what changed and writes it.
type Pipeline struct {
	store    Store
	embedder retrieval.Embedder
	chunker  *Chunker
}

// batchSize is how many sources are embedded and written together.
const batchSize = 256

// NewPipeline returns a pipeline writing to store with vectors from embedder.
func NewPipeline(store Store, embedder retrieval.Embedder, chunker *Chunker) *Pipeline {
	return &Pipeline{store: store, embedder: embedder, chunker: chunker}
}

// Request is one ingest into one knowledge base.
type Request struct {
	WorkspaceID string
	KBID        string
	Docs        []Document
	// Prune deletes the knowledge base's sources that are not in Docs.
	Prune bool
	// Keep are external ids of stored sources to keep as they are, though
	// not in Docs (a re-crawled page that was not modified): counted as
	// unchanged, and not pruned.
	Keep []string
	// DryRun counts what would change and writes nothing.
	DryRun bool
	// DeferAbove, if positive, is the most chunks Run embeds and writes
	// itself: a larger ingest is planned but not written, and the Result
	// carries the plan (Result.Deferred) for a later Run to write, e.g. in
	// the background.
	DeferAbove int
	// Deferred, if set, is the plan of an earlier Run of this request (same
	// workspace, knowledge base and Prune) that deferred it: Run writes it
	// without reading Docs or chunking again. Only when another ingest has
	// changed the knowledge base since is the plan made anew. A plan is
	// written once.
	Deferred *Plan
	// Progress, if set, is called after each written batch with the number
	// of changed sources written so far and their total; the last one is
	// counted once the ingest has committed, since a large load still
	// builds its vector index after writing every batch.
	Progress func(done, total int)
}

// Result counts what an ingest did.
type Result struct {
	Added     int           `json:"added"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Pruned    int           `json:"pruned"`
	Chunks    int           `json:"chunks"`
	Embedded  int           `json:"embedded"`
	Elapsed   time.Duration `json:"-"`
	// PrunedIDs are the external ids of the sources a dry run with Prune
	// would delete, in order, the first MaxPrunedIDs of them (Pruned
	// counts them all); empty otherwise. AddedIDs and UpdatedIDs are
	// those a dry run would add and update, as many.
	PrunedIDs  []string `json:"pruned_ids,omitempty"`
	AddedIDs   []string `json:"added_ids,omitempty"`
	UpdatedIDs []string `json:"updated_ids,omitempty"`

	deferred *Plan
}

// MaxPrunedIDs caps Result.PrunedIDs, AddedIDs and UpdatedIDs.
const MaxPrunedIDs = 1000

// Changed reports whether the ingest wrote or deleted anything (a dry run:
// would have). A deferred ingest has not, yet.
func (r Result) Changed() bool { return r.deferred == nil && r.Added+r.Updated+r.Pruned > 0 }

// Deferred is the plan of an ingest that Run left unwritten because it was
// larger than Request.DeferAbove, to be passed back as Request.Deferred;
// nil when the ingest was written (or was a dry run).
func (r Result) Deferred() *Plan { return r.deferred }

// Plan is an ingest worked out and not yet written: the added and updated
// documents chunked, and the counts of what writing it will do.
type Plan struct {
	req      Request           // Docs included, to plan again if the store changed
	existing map[string]string // the stored hashes the plan was made against
	keep     []string          // every external id of the request, for Prune
	changed  []parley.SourceChunks
	planned  Result
}

// Prune reports whether writing the plan prunes the knowledge base.
func (p *Plan) Prune() bool { return p.req.Prune }

// Run ingests req.Docs. Unchanged sources (same content, chunking and
// embedding model) are skipped without embedding; the rest are embedded in
// batches by several workers while earlier batches are written, all in one
// transaction: on any error nothing is written. An ingest larger than
// req.DeferAbove is only planned; req.Deferred writes such a plan.
func (p *Pipeline) Run(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	plan, err := p.planOf(ctx, req)
	if err != nil {
		return Result{Elapsed: time.Since(start)}, err
	}
	res := plan.planned
	res.Elapsed = time.Since(start)
	if req.DryRun || (len(plan.changed) == 0 && res.Pruned == 0) {
		return res, nil
	}
	if req.Deferred == nil && req.DeferAbove > 0 && res.Chunks > req.DeferAbove {
		res.deferred = plan
		return res, nil
	}
	if err := p.store.EnsureVectorIndex(ctx, p.embedder.Model(), p.embedder.Dimensions()); err != nil {
		return Result{Elapsed: time.Since(start)}, err
	}
	var progress func(done, total int)
	if req.Progress != nil {
		progress = func(done, total int) { req.Progress(min(done, total-1), total) }
	}
	target := parley.IngestTarget{WorkspaceID: req.WorkspaceID, KBID: req.KBID,
		Model: p.embedder.Model(), Dims: p.embedder.Dimensions(), Chunks: res.Chunks}
	err = p.store.Ingest(ctx, target, func(w parley.SourceWriter) error {
		n, err := p.embedAndWrite(ctx, w, plan.changed, progress)
		res.Embedded = n
		if err != nil {
			return err
		}
		if req.Prune {
			res.Pruned, err = w.Prune(ctx, plan.keep)
		}
		return err
	})
	res.Elapsed = time.Since(start)
	if err != nil {
		return Result{Elapsed: res.Elapsed}, err
	}
	if req.Progress != nil && len(plan.changed) > 0 {
		req.Progress(len(plan.changed), len(plan.changed))
	}
	return res, nil
}

// planOf returns the plan of req: req.Deferred when the knowledge base's
// stored sources are as they were when it was made, else a new one.
func (p *Pipeline) planOf(ctx context.Context, req Request) (*Plan, error) {
	d := req.Deferred
	if d == nil {
		return p.plan(ctx, req)
	}
	if d.req.WorkspaceID != req.WorkspaceID || d.req.KBID != req.KBID || d.req.Prune != req.Prune {
		return nil, fmt.Errorf("ingest into knowledge base %s: the deferred plan is of another request (knowledge base %s, prune %t)",
			req.KBID, d.req.KBID, d.req.Prune)
	}
	existing, err := p.store.SourceHashes(ctx, req.WorkspaceID, req.KBID)
	if err != nil {
		return nil, err
	}
	if maps.Equal(existing, d.existing) {
		return d, nil
	}
	return p.planAgainst(ctx, d.req, existing)
}

// plan compares req.Docs with the stored sources and chunks the added and
// updated ones.
func (p *Pipeline) plan(ctx context.Context, req Request) (*Plan, error) {
	if len(req.Docs) == 0 && len(req.Keep) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "nothing to ingest: the upload has no entries")
	}
	docs, err := uniqueDocs(req.Docs)
	if err != nil {
		return nil, err
	}
	req.Docs = docs
	existing, err := p.store.SourceHashes(ctx, req.WorkspaceID, req.KBID)
	if err != nil {
		return nil, err
	}
	return p.planAgainst(ctx, req, existing)
}

// planAgainst plans req against the stored hashes existing.
func (p *Pipeline) planAgainst(ctx context.Context, req Request, existing map[string]string) (*Plan, error) {
	plan := &Plan{existing: existing, keep: make([]string, 0, len(req.Docs))}
	plan.req = Request{WorkspaceID: req.WorkspaceID, KBID: req.KBID, Docs: req.Docs, Prune: req.Prune, Keep: req.Keep}
	res := &plan.planned
	for _, id := range req.Keep {
		if _, ok := existing[id]; ok {
			plan.keep = append(plan.keep, id)
			res.Unchanged++
		}
	}
	for _, d := range req.Docs {
		plan.keep = append(plan.keep, d.ExternalID)
		hash := p.storedHash(d)
		old, seen := existing[d.ExternalID]
		switch {
		case seen && old == hash:
			res.Unchanged++
			continue
		case seen:
			res.Updated++
			if req.DryRun && len(res.UpdatedIDs) < MaxPrunedIDs {
				res.UpdatedIDs = append(res.UpdatedIDs, d.ExternalID)
			}
		default:
			res.Added++
			if req.DryRun && len(res.AddedIDs) < MaxPrunedIDs {
				res.AddedIDs = append(res.AddedIDs, d.ExternalID)
			}
		}
		src, err := p.source(ctx, d, hash)
		if err != nil {
			return nil, err
		}
		plan.changed = append(plan.changed, src)
	}
	for _, s := range plan.changed {
		res.Chunks += len(s.Chunks)
	}
	if req.Prune {
		gone := missing(existing, plan.keep)
		res.Pruned = len(gone)
		if req.DryRun {
			res.PrunedIDs = gone[:min(len(gone), MaxPrunedIDs)]
		}
	}
	return plan, nil
}

// embedAndWrite embeds the sources' chunks in batches on several workers and
// writes each batch as it is ready. It returns the number of texts embedded.
func (p *Pipeline) embedAndWrite(ctx context.Context, w parley.SourceWriter, srcs []parley.SourceChunks, progress func(int, int)) (int, error) {
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []parley.SourceChunks)
	ready := make(chan []parley.SourceChunks)
	g.Go(func() error {
		defer close(batches)
		for i := 0; i < len(srcs); i += batchSize {
			select {
			case batches <- srcs[i:min(i+batchSize, len(srcs))]:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	workers := max(1, runtime.GOMAXPROCS(0))
	embedders, embedCtx := errgroup.WithContext(ctx)
	for range workers {
		embedders.Go(func() error {
			for batch := range batches {
				if err := p.embedBatch(embedCtx, batch); err != nil {
					return err
				}
				select {
				case ready <- batch:
				case <-embedCtx.Done():
					return embedCtx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(ready)
		return embedders.Wait()
	})
	embedded, written := 0, 0
	g.Go(func() error {
		for batch := range ready {
			if err := w.Write(ctx, batch); err != nil {
				return err
			}
			for _, s := range batch {
				written++
				embedded += len(s.Chunks)
			}
			if progress != nil {
				progress(written, len(srcs))
			}
		}
		return nil
	})
	err := g.Wait()
	return embedded, err
}

// embedBatch fills in the embedding of every chunk of the batch.
func (p *Pipeline) embedBatch(ctx context.Context, batch []parley.SourceChunks) error {
	var texts []string
	for _, s := range batch {
		for _, c := range s.Chunks {
			texts = append(texts, c.Text)
		}
	}
	vecs, err := p.embedder.Embed(ctx, texts)
	if err != nil {
		return fmt.Errorf("embed %d chunks starting with source %s: %w", len(texts), batch[0].ExternalID, err)
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("embedder %s returned %d vectors for %d texts", p.embedder.Model(), len(vecs), len(texts))
	}
	i := 0
	for _, s := range batch {
		for j := range s.Chunks {
			s.Chunks[j].Embedding = vecs[i]
			i++
		}
	}
	return nil
}

// source chunks a document into the form the store writes.
func (p *Pipeline) source(ctx context.Context, d Document, hash string) (parley.SourceChunks, error) {
	chunks, err := p.chunker.Chunk(ctx, d)
	if err != nil {
		return parley.SourceChunks{}, fmt.Errorf("chunk %s: %w", d.Origin, err)
	}
	out := parley.SourceChunks{Source: parley.Source{
		Kind: string(d.Kind), ExternalID: d.ExternalID, Title: d.Title, URL: d.URL,
		Language: d.Language, Intent: d.Intent, Tags: d.Tags, ContentHash: hash, Group: d.Group,
	}}
	for _, c := range chunks {
		out.Chunks = append(out.Chunks, parley.Chunk{
			Ordinal: c.Ordinal, Text: c.Text, Answer: c.Answer, SectionPath: c.SectionPath, Tokens: c.Tokens,
		})
	}
	return out, nil
}

// storeLayout versions how sources are turned into stored chunks (group
// keys, which texts are embedded); bumping it re-ingests everything.
const storeLayout = 2

// storedHash identifies what a source's stored chunks were made from: its
// content, the chunking, the store layout and the embedding model. Any
// change re-embeds.
func (p *Pipeline) storedHash(d Document) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%s|%d", d.ContentHash(), p.chunker.Signature(), storeLayout, p.embedder.Model(), p.embedder.Dimensions())
	return hex.EncodeToString(h.Sum(nil))
}

// uniqueDocs applies the loaders' rule for repeated ids to documents
// loaded from several inputs (files of an upload, paths of the CLI): an
// FAQ entry repeated with the same answer is kept once, any other repeat
// is an error naming both.
func uniqueDocs(docs []Document) ([]Document, error) {
	c := newCollector(LoadOptions{MaxRecords: len(docs)})
	for _, d := range docs {
		if err := c.add(d); err != nil {
			return nil, err
		}
	}
	return c.docs, nil
}

func missing(existing map[string]string, keep []string) []string {
	kept := make(map[string]bool, len(keep))
	for _, id := range keep {
		kept[id] = true
	}
	var gone []string
	for id := range existing {
		if !kept[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	return gone
}
