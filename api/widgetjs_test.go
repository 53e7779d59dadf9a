package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/web"
)

func TestWidgetScriptRoute(t *testing.T) {
	e := newEnv(t)
	res, err := http.Get(e.srv.URL + "/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	raw, _ := web.WidgetSize()
	if res.StatusCode != http.StatusOK || len(body) != raw || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /widget.js: %d, %d bytes (want %d), %s", res.StatusCode, len(body), raw, res.Header.Get("Content-Type"))
	}
}
