package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/parleyhq/parley/web"
)

// runDemoPage serves a sample shop page that embeds the widget from the API,
// on its own address: another origin, as a customer's site is.
func runDemoPage(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "demo-page", "demo-page --key WIDGET_KEY [--api URL] [--addr HOST:PORT] [--language en|de]\n\n"+
		"Serves a sample shop page that embeds widget.js from the API, on another origin than the API.\n"+
		"The widget key's allowed origins must include this page's (http://127.0.0.1:PORT).")
	addr := fs.String("addr", a.cfg.DemoPageAddr, "listen `address` of the page (env PARLEY_DEMO_PAGE_ADDR)")
	apiURL := fs.String("api", "http://127.0.0.1:8080", "base `URL` of the Parley API that serves widget.js")
	key := fs.String("key", "", "widget `key` the page embeds (required)")
	language := fs.String("language", "", "the widget's `language`, en or de (default: the browser's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return usageError("demo-page: --key is required")
	}
	if u, err := url.Parse(*apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(fmt.Sprintf("demo-page: --api %q is not an http(s) URL", *apiURL))
	}
	if *language != "" && *language != "en" && *language != "de" {
		return usageError(fmt.Sprintf("demo-page: --language %q: want en or de", *language))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           web.DemoPage(web.DemoOptions{API: *apiURL, Key: *key, Language: *language}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	a.log.Info("serving the demo page", "addr", ln.Addr().String(), "api", *apiURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve the demo page: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop the demo page: %w", err)
	}
	return nil
}
