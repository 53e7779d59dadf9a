package crawl

import (
	"cmp"
	"context"
	"time"

	"github.com/parleyhq/parley/ingest"
)

// Preview is what a sync would do, found by crawling the site and planning
// the ingest without writing anything: the pages it would add, change,
// remove and leave unchanged (by URL; a removed source not crawled before
// by its id), each list the first ingest.MaxPrunedIDs, with their counts
// and the crawl's.
type Preview struct {
	DryRun      bool             `json:"dry_run"`
	Added       int              `json:"added"`
	Changed     int              `json:"changed"`
	Removed     int              `json:"removed"`
	Unchanged   int              `json:"unchanged"`
	Pages       PreviewPages     `json:"pages"`
	Complete    bool             `json:"complete"`
	Fetched     int              `json:"fetched"`
	NotModified int              `json:"not_modified"`
	Failed      int              `json:"failed"`
	Skipped     []ingest.Skipped `json:"skipped"`
	ElapsedMS   int64            `json:"elapsed_ms"`
}

// PreviewPages are the pages of a Preview.
type PreviewPages struct {
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Removed   []string `json:"removed"`
	Unchanged []string `json:"unchanged"`
}

// DryRun crawls a knowledge base's origin and reports what a sync would
// change, writing nothing: not the knowledge, not the origin's state or
// pages. Pages the crawl is told are not modified count as unchanged; an
// incomplete crawl removes nothing, as a sync would not.
func (s *Syncer) DryRun(ctx context.Context, workspaceID, kbID string) (Preview, error) {
	start := time.Now()
	o, err := s.store.Origin(ctx, workspaceID, kbID)
	if err != nil {
		return Preview{}, err
	}
	res, rep, err := s.crawl(ctx, o)
	if err != nil {
		return Preview{}, err
	}
	plan, err := s.ing.Ingest(ctx, ingest.Request{WorkspaceID: o.WorkspaceID, KBID: o.KBID, Docs: res.Docs, Keep: res.Kept, Prune: res.Complete, DryRun: true})
	if err != nil {
		return Preview{}, err
	}
	url := map[string]string{}
	for u, v := range res.Pages {
		url[v.ID] = u
	}
	for _, d := range res.Docs {
		if d.URL != "" {
			url[d.ExternalID] = d.URL
		}
	}
	urls := func(ids []string) []string {
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			out = append(out, cmp.Or(url[id], id))
		}
		return out
	}
	p := Preview{DryRun: true, Added: plan.Added, Changed: plan.Updated, Removed: plan.Pruned, Unchanged: plan.Unchanged,
		Complete: rep.Complete, Fetched: rep.Fetched, NotModified: rep.NotModified, Failed: rep.Failed, Skipped: rep.Skipped,
		Pages: PreviewPages{Added: urls(plan.AddedIDs), Changed: urls(plan.UpdatedIDs), Removed: urls(plan.PrunedIDs)}}
	// Unchanged: the pages kept as they are, and those read again alike
	// (exact while fewer than ingest.MaxPrunedIDs pages are added or changed).
	written := map[string]bool{}
	for _, id := range append(plan.AddedIDs, plan.UpdatedIDs...) {
		written[id] = true
	}
	stored, err := s.store.SourceHashes(ctx, o.WorkspaceID, o.KBID)
	if err != nil {
		return Preview{}, err
	}
	var same []string
	for _, id := range res.Kept {
		if _, ok := stored[id]; ok {
			same = append(same, id)
		}
	}
	for _, d := range res.Docs {
		if !written[d.ExternalID] {
			same = append(same, d.ExternalID)
		}
	}
	p.Pages.Unchanged = urls(same[:min(len(same), ingest.MaxPrunedIDs)])
	p.ElapsedMS = time.Since(start).Milliseconds()
	return p, nil
}
