package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDemoPageServesThePage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"demo-page"}, {"demo-page", "--key", "k", "--api", "ftp://x"}, {"demo-page", "--key", "k", "--language", "fr"}} {
		if _, _, err := cli(t, nil, args...); exitCode(err) != 2 {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo-page", "--key", "pk_demo", "--api", "http://127.0.0.1:18801"},
			func(k string) string {
				if k == "PARLEY_DEMO_PAGE_ADDR" {
					return "127.0.0.1:18802"
				}
				return ""
			}, io.Discard, io.Discard)
	}()
	var body string
	for i := 0; i < 100 && body == ""; i++ {
		if res, err := http.Get("http://127.0.0.1:18802/"); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body = string(b)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	want := `<script src="http://127.0.0.1:18801/widget.js" data-key="pk_demo" async></script>`
	if !strings.Contains(body, want) {
		t.Errorf("the page does not embed the widget: want %s in\n%s", want, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo-page stopped with %v", err)
	}
}
