// Package web holds the browser side of Parley, embedded in the binary: the
// chat widget script (widget.js), the demo page that embeds it from
// another origin, and the console's templates, assets and messages
// (console/). It serves plain net/http handlers; api mounts them.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed widget/widget.js demo/demo.html console/templates console/static console/messages
var files embed.FS

// asset is one embedded file, ready to serve as is or gzip-compressed.
type asset struct {
	contentType string
	raw, gz     []byte
	etag        string
	// corp is its Cross-Origin-Resource-Policy ("" = cross-origin).
	corp string
}

func load(name, contentType string) asset {
	raw, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("web: embedded %s missing: %v", name, err)) // a build mistake, caught by any test
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	sum := sha256.Sum256(raw)
	return asset{contentType: contentType, raw: raw, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func (a asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// Any site may load the widget script; it carries no secrets.
	corp := a.corp
	if corp == "" {
		corp = "cross-origin"
	}
	h.Set("Cross-Origin-Resource-Policy", corp)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.raw
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

var widget = load("widget/widget.js", "text/javascript; charset=utf-8")

// Widget serves widget.js (GET and HEAD), gzip-compressed for clients that
// accept it.
func Widget() http.Handler { return widget }

// WidgetSize is the size of widget.js in bytes, as written and gzip-compressed.
func WidgetSize() (raw, gzipped int) { return len(widget.raw), len(widget.gz) }

// DemoOptions say what the demo page embeds.
type DemoOptions struct {
	// API is the base URL of the Parley server that serves widget.js and
	// answers it (another origin than the demo page's).
	API string
	// Key is the widget key; its allowed origins must include the demo page's.
	Key string
	// Language is the widget's data-language ("" lets the browser choose).
	Language string
}

var demoPage = template.Must(template.ParseFS(files, "demo/demo.html"))

// DemoPage serves a sample shop page at / that embeds the widget from
// opts.API, as a customer's site would.
func DemoPage(opts DemoOptions) http.Handler {
	var buf bytes.Buffer
	if err := demoPage.Execute(&buf, opts); err != nil {
		panic(fmt.Sprintf("web: render demo page: %v", err)) // the template and options are fixed at start
	}
	page := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "demo.html", time.Time{}, bytes.NewReader(page))
	})
}
