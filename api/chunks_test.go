package api_test

import (
	"strconv"
	"testing"

	"github.com/parleyhq/parley"
)

func TestSourceChunks(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, nil)
	if status, body, _ := e.uploadJSON("faq", `{"records": [{"id": "returns", "question": "How do I return an item?", "answer": "Start a return from Your orders within 30 days.", "title": "Returns"}]}`); status != 200 {
		t.Fatalf("upload: %d %v", status, body)
	}
	status, body := e.do("GET", "/v1/knowledge-bases/faq/sources/returns/chunks", e.admin, "")
	if status != 200 {
		t.Fatalf("chunks: %d %v", status, body)
	}
	src := body["source"].(map[string]any)
	chunks := body["chunks"].([]any)
	if src["external_id"] != "returns" || src["title"] != "Returns" || len(chunks) == 0 || float64(len(chunks)) != src["chunks"] {
		t.Fatalf("source %v with %d chunks", src, len(chunks))
	}
	first := chunks[0].(map[string]any)
	if first["answer"] != "Start a return from Your orders within 30 days." || first["text"] == "" || first["embed_model"] == "" {
		t.Errorf("first chunk %v", first)
	}
	if _, ok := first["embedding"]; ok {
		t.Error("chunks carry their vectors")
	}
	id := strconv.FormatFloat(src["id"].(float64), 'f', 0, 64)
	if status, again := e.do("GET", "/v1/knowledge-bases/faq/sources/"+id+"/chunks?by=id", e.admin, ""); status != 200 || len(again["chunks"].([]any)) != len(chunks) {
		t.Errorf("by numeric id: %d %v", status, again)
	}
	status, body = e.do("GET", "/v1/knowledge-bases/faq/sources/nope/chunks", e.admin, "")
	wantError(t, status, body, 404, "not_found")
	status, body = e.do("GET", "/v1/knowledge-bases/faq/sources/returns/chunks", e.keys[parley.RoleAgent], "")
	wantError(t, status, body, 403, "forbidden")
	other := newEnv(t) // another workspace's admin does not see it
	status, body = other.do("GET", "/v1/knowledge-bases/faq/sources/returns/chunks", other.keys[parley.RoleAdmin], "")
	wantError(t, status, body, 404, "not_found")
}
