package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/web/browsertest"
)

// writeFile writes a file for the browser to upload and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// text is a JavaScript test that an element matching sel contains text.
func text(sel, want string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, sel, want)
}

func TestConsoleKnowledgeInBrowser(t *testing.T) {
	st := newStack(t)
	p := browsertest.New(t, 120*time.Second)
	p.SignIn(st.srv.URL, st.admin)

	p.Do("open the knowledge page", chromedp.Navigate(st.srv.URL+"/app/knowledge"))
	if !browsertest.Eval[bool](p, text("#kbs td", "faq")) {
		t.Fatal("the knowledge page does not list faq")
	}
	p.Screenshot("knowledge")
	p.Do("open faq", chromedp.Click(chromedp.CSS("#kbs a")), chromedp.WaitVisible(chromedp.ID("upload-form")))

	// Upload a file: it is written at once (small), and the list shows its sources.
	csv := writeFile(t, "care.csv", "id,question,answer\n"+
		"watering,How often should I water a fern?,Water ferns twice a week and keep the soil moist.\n"+
		"repotting,When should I repot?,Repot in spring when roots show through the drainage holes.\n")
	p.Do("choose the file", chromedp.SetUploadFiles(chromedp.ID("files"), []string{csv}))
	p.Do("upload", chromedp.Click(chromedp.ID("upload-submit")))
	p.WaitFor("the result", text("#upload-result .notice", "Added 2"), 20*time.Second)
	p.WaitFor("the new sources in the list", text("#sources td a", "watering"), 5*time.Second)
	if browsertest.Eval[bool](p, `!document.getElementById('upload-progress').hidden`) {
		t.Error("the progress bar stays after the upload")
	}
	browsertest.Eval[bool](p, `(document.getElementById('upload-result').scrollIntoView(), true)`)
	p.Screenshot("uploaded")

	// Its chunks, as stored.
	p.Do("open a source", chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('#sources td a')].find(a => a.textContent === 'watering')`)),
		chromedp.WaitVisible(chromedp.CSS(".chunks")))
	if n := browsertest.Eval[int](p, `document.querySelectorAll('.chunk').length`); n != 2 {
		t.Errorf("%d chunks shown, want 2 (question and answer)", n)
	}
	if !browsertest.Eval[bool](p, text(".chunk pre", "Water ferns twice a week")) || !browsertest.Eval[bool](p, text(".chunk pre", "How often should I water a fern?")) {
		t.Error("the chunks' stored text is not shown")
	}
	p.Screenshot("chunks")
	p.Do("a 360 px wide screen", chromedp.EmulateViewport(360, 740))
	p.NoHorizontalOverflow()
	p.Screenshot("chunks-phone")
	p.Do("a wide screen", chromedp.EmulateViewport(browsertest.Width, browsertest.Height))

	// Pruning: the preview names what would be deleted, and nothing is until confirmed.
	p.Do("back to faq", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.ID("upload-form")))
	only := writeFile(t, "only.csv", "id,question,answer\nwatering,How often should I water a fern?,Water ferns twice a week and keep the soil moist.\n")
	p.Do("choose the file", chromedp.SetUploadFiles(chromedp.ID("files"), []string{only}))
	p.Do("ask to prune", chromedp.Click(chromedp.ID("prune")), chromedp.Click(chromedp.ID("upload-submit")))
	p.WaitFor("the preview", `document.getElementById('confirm-prune') !== null`, 20*time.Second)
	for _, id := range []string{"delivery", "returns", "giftcards", "payment", "repotting"} {
		if !browsertest.Eval[bool](p, text("#would-delete li", id)) {
			t.Errorf("the preview does not name %s", id)
		}
	}
	if browsertest.Eval[bool](p, text("#would-delete li", "watering")) {
		t.Error("the preview would delete the source the upload holds")
	}
	if n := st.call("GET", "/v1/knowledge-bases/faq", st.admin, "", 200)["sources"]; n != 6.0 {
		t.Fatalf("the preview changed the knowledge base: %v sources, want 6", n)
	}
	p.Screenshot("prune-preview")
	p.Do("confirm", chromedp.Click(chromedp.ID("confirm-prune")))
	p.WaitFor("the result", text("#upload-result .notice", "deleted 5"), 20*time.Second)
	if n := st.call("GET", "/v1/knowledge-bases/faq", st.admin, "", 200)["sources"]; n != 1.0 {
		t.Fatalf("after pruning: %v sources, want 1", n)
	}

	// Delete the last source, then the knowledge base (each asks twice),
	// once the list is the one reloaded after the upload (the notice comes
	// first).
	p.WaitFor("the reloaded list", `document.querySelectorAll('#sources .delete-source').length === 1`, 10*time.Second)
	p.Do("delete the source", chromedp.Click(chromedp.CSS(".delete-source")), chromedp.Click(chromedp.CSS(".delete-source")))
	p.WaitFor("the empty list", `document.querySelector('#sources .empty') !== null`, 10*time.Second)
	p.Do("delete the knowledge base", chromedp.Click(chromedp.ID("delete-kb")), chromedp.Click(chromedp.ID("delete-kb")),
		chromedp.WaitVisible(chromedp.ID("create-kb")))
	st.call("GET", "/v1/knowledge-bases/faq", st.admin, "", 404)
	p.Screenshot("deleted")
	p.NoErrors()
}

var queueSeq atomic.Int64

// TestConsoleUploadJobInBrowser: a large upload becomes a background job,
// and the page follows it to the end.
func TestConsoleUploadJobInBrowser(t *testing.T) {
	st := newStackWith(t, func(o *api.Options) {
		o.SyncIngestMax = 10 // the stack's own four entries (8 chunks) are written at once
		w := jobs.NewIngest(pgtest.DB(t), o.Knowledge, jobs.IngestOptions{})
		workers := river.NewWorkers()
		w.Register(workers)
		q, err := postgres.NewQueue(context.Background(), pgtest.DB(t), postgres.QueueOptions{
			Workers: workers, Name: fmt.Sprintf("console_%d_%d", time.Now().UnixNano(), queueSeq.Add(1)), Concurrency: 1, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = q.Stop(ctx)
		})
		o.IngestJobs = w.On(q)
	})
	var rows strings.Builder
	rows.WriteString("id,question,answer\n")
	for i := range 40 {
		fmt.Fprintf(&rows, "plant%d,How do I care for plant %d?,Plant %d likes bright light and water every %d days.\n", i, i, i, i%7+2)
	}
	csv := writeFile(t, "plants.csv", rows.String())
	p := browsertest.New(t, 120*time.Second)
	p.SignIn(st.srv.URL, st.admin)
	p.Do("open faq", chromedp.Navigate(st.srv.URL+"/app/knowledge/faq"), chromedp.WaitVisible(chromedp.ID("upload-form")))
	p.Do("upload", chromedp.SetUploadFiles(chromedp.ID("files"), []string{csv}), chromedp.Click(chromedp.ID("upload-submit")))
	p.WaitFor("the job's progress", text("#progress-label", "Background job"), 20*time.Second)
	p.Screenshot("job")
	p.WaitFor("the result", text("#upload-result .notice", "Added 40"), 60*time.Second)
	p.WaitFor("the new sources in the list", text("#sources td a", "plant0"), 5*time.Second)
	p.Screenshot("job-done")
	p.NoErrors()
}
