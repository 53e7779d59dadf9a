package crawl_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/ingest/crawl"
	"github.com/parleyhq/parley/knowledge"
	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// TestCrawlBenchmark crawls a generated help center of PARLEY_BENCH_PAGES
// pages (2,000) served on this machine into a fresh schema, then syncs it
// again with nothing changed, PARLEY_BENCH_RUNS times (3), and prints the
// medians. Run with `make bench-crawl`; skipped otherwise.
func TestCrawlBenchmark(t *testing.T) {
	if os.Getenv("PARLEY_BENCH_CRAWL") == "" {
		t.Skip("set PARLEY_BENCH_CRAWL=1 (make bench-crawl) to run the crawl benchmark")
	}
	pages := envInt(t, "PARLEY_BENCH_PAGES", 2000)
	runs := envInt(t, "PARLEY_BENCH_RUNS", 3)
	site := generatedSite(t, pages)
	tok, err := llm.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	var first, again []crawl.Report
	for run := range runs {
		db := pgtest.FreshDB(t, 8)
		ctx := context.Background()
		ws, _, err := db.EnsureWorkspace(ctx, fmt.Sprintf("bench-crawl-%d", run))
		if err != nil {
			t.Fatal(err)
		}
		kb, _, err := db.EnsureKB(ctx, ws.ID, "site")
		if err != nil {
			t.Fatal(err)
		}
		settings, _ := json.Marshal(crawl.Settings{Delay: "0s", MaxPages: pages + 10})
		if _, err := db.SetOrigin(ctx, parley.Origin{KBID: kb.ID, WorkspaceID: ws.ID, URL: site.URL + "/help/sitemap.xml", Settings: settings}); err != nil {
			t.Fatal(err)
		}
		pipeline := ingest.NewPipeline(db, retrieval.NewLocal(), ingest.NewChunker(tok, ingest.ChunkOptions{}))
		syncer := crawl.NewSyncer(testCrawler(true), db, knowledge.New(db, pipeline, nil, retrieval.LocalModel, nil))
		r1, err := syncer.Sync(ctx, ws.ID, kb.ID)
		if err != nil {
			t.Fatalf("first crawl: %v", err)
		}
		if r1.Added != pages {
			t.Fatalf("first crawl added %d pages, want %d (skipped %d: %v)", r1.Added, pages, len(r1.Skipped), r1.Skipped[:min(3, len(r1.Skipped))])
		}
		r2, err := syncer.Sync(ctx, ws.ID, kb.ID)
		if err != nil {
			t.Fatalf("re-crawl: %v", err)
		}
		if r2.Unchanged != pages || r2.NotModified != pages || r2.Embedded != 0 {
			t.Fatalf("re-crawl: %d unchanged, %d not modified, %d embedded; want %d, %d, 0", r2.Unchanged, r2.NotModified, r2.Embedded, pages, pages)
		}
		first, again = append(first, r1), append(again, r2)
		t.Logf("run %d: first %d ms (fetch %d, ingest %d), re-crawl %d ms", run+1, r1.ElapsedMS, r1.FetchMS, r1.IngestMS, r2.ElapsedMS)
	}
	f, a := medianReport(first), medianReport(again)
	fmt.Printf("crawl of %d generated pages (%d runs, medians): first %.2f s = %.0f pages/s; fetching %.2f s (%.0f%%), chunking, embedding and writing %.2f s (%.0f%%); %d chunks\n",
		pages, runs, sec(f.ElapsedMS), float64(pages)/sec(f.ElapsedMS), sec(f.FetchMS), 100*float64(f.FetchMS)/float64(f.ElapsedMS),
		sec(f.IngestMS), 100*float64(f.IngestMS)/float64(f.ElapsedMS), f.Chunks)
	fmt.Printf("re-crawl with nothing changed: %.3f s = %.1f%% of the first (all %d pages answered 304, nothing embedded)\n",
		sec(a.ElapsedMS), 100*float64(a.ElapsedMS)/float64(f.ElapsedMS), pages)
	if 10*a.ElapsedMS >= f.ElapsedMS {
		t.Errorf("the re-crawl took %d ms, not under 10%% of the first (%d ms)", a.ElapsedMS, f.ElapsedMS)
	}
}

func sec(ms int64) float64 { return float64(ms) / 1000 }

// medianReport is the run with the median total time.
func medianReport(rs []crawl.Report) crawl.Report {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b crawl.Report) int { return int(a.ElapsedMS - b.ElapsedMS) })
	return rs[len(rs)/2]
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// generatedSite serves n help articles of about 300 words each under
// /help/, with navigation, a footer and links to the next pages, a sitemap
// listing them all, and ETags.
func generatedSite(t *testing.T, n int) *httptest.Server {
	t.Helper()
	topics := []string{"shipping", "returns", "billing", "accounts", "orders", "plants", "pots", "gift cards", "the app", "loyalty"}
	words := strings.Fields("the order parcel refund delivery account password invoice plant pot soil water light leaf repot courier tracking address payment card voucher points member box week month day customer support team email chat")
	render := func(i int) string {
		var b strings.Builder
		topic := topics[i%len(topics)]
		fmt.Fprintf(&b, "<html><head><title>Article %d about %s | Help</title></head><body><nav><a href=\"/help/\">Home</a> <a href=\"/help/a/%d\">Next</a></nav><main><h1>Article %d about %s</h1>", i, topic, (i+1)%n, i, topic)
		for s := range 3 {
			fmt.Fprintf(&b, "<h2>Part %d</h2><p>", s+1)
			for w := range 100 {
				b.WriteString(words[(i*7+s*13+w*w)%len(words)])
				b.WriteString(" ")
				if w%14 == 13 {
					b.WriteString(". ")
				}
			}
			b.WriteString("</p>")
		}
		for _, j := range []int{(i + 1) % n, (i * 7) % n, (i + n/2) % n} {
			fmt.Fprintf(&b, `<a href="/help/a/%d">See also %d</a> `, j, j)
		}
		b.WriteString("</main><footer>Copyright Bramble</footer></body></html>")
		return b.String()
	}
	bodies := make([]string, n)
	etags := make([]string, n)
	for i := range n {
		bodies[i] = render(i)
		etags[i] = fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(bodies[i])))
	}
	var sitemap strings.Builder
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/help/sitemap.xml":
			io.WriteString(w, sitemap.String())
		case strings.HasPrefix(r.URL.Path, "/help/a/"):
			i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/help/a/"))
			if err != nil || i < 0 || i >= n {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("ETag", etags[i])
			if r.Header.Get("If-None-Match") == etags[i] {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Last-Modified", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat))
			io.WriteString(w, bodies[i])
		default:
			http.NotFound(w, r)
		}
	})
	srv.Start()
	t.Cleanup(srv.Close)
	sitemap.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := range n {
		fmt.Fprintf(&sitemap, "<url><loc>%s/help/a/%d</loc></url>", srv.URL, i)
	}
	sitemap.WriteString("</urlset>")
	return srv
}
