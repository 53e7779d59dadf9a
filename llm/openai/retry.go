package openai

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/llm"
)

// retrier retries requests that failed for a reason that may pass: HTTP
// 429, 5xx and network errors. It never retries when the caller's context
// is done, nor on other 4xx answers. Between attempts it waits the server's
// Retry-After when given, else an exponential backoff with full jitter.
type retrier struct {
	max           int
	base, cap     time.Duration
	retryAfterMax time.Duration
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func newRetrier(c Config) *retrier {
	return &retrier{max: c.MaxRetries, base: c.BackoffBase, cap: c.BackoffMax, retryAfterMax: c.RetryAfterMax, sleep: sleepCtx}
}

// do calls fn until it succeeds, fails for good or the retries run out,
// and returns the last error.
func (r *retrier) do(ctx context.Context, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		hint := &retryHint{}
		err := fn(context.WithValue(ctx, retryHintKey{}, hint))
		if err == nil || attempt >= r.max || ctx.Err() != nil || !retryable(err) {
			return err
		}
		wait := r.backoff(attempt)
		if d, ok := hint.get(); ok {
			if d > r.retryAfterMax {
				return err // the server asks for a longer pause than is worth waiting
			}
			wait = d
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // the wait would outlast the call
		}
		if r.sleep(ctx, wait) != nil {
			return err
		}
	}
}

// backoff returns a random wait in [0, min(cap, base*2^attempt)].
func (r *retrier) backoff(attempt int) time.Duration {
	d := r.base << min(attempt, 20)
	if d <= 0 || d > r.cap {
		d = r.cap
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryHint carries a response's Retry-After from the HTTP layer, which
// sees headers, to the retry loop, which go-openai's errors do not tell.
type retryHint struct {
	mu    sync.Mutex
	after time.Duration
	ok    bool
}

type retryHintKey struct{}

func (h *retryHint) set(d time.Duration) {
	h.mu.Lock()
	h.after, h.ok = d, true
	h.mu.Unlock()
}

func (h *retryHint) get() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.after, h.ok
}

// retryAfterDoer is the go-openai HTTP client: it notes the Retry-After of
// failed responses on the request's retryHint.
type retryAfterDoer struct{ c *http.Client }

func (d retryAfterDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	if h, ok := req.Context().Value(retryHintKey{}).(*retryHint); ok {
		if ms, err := strconv.Atoi(resp.Header.Get("Retry-After-Ms")); err == nil && ms >= 0 {
			h.set(time.Duration(ms) * time.Millisecond)
		} else if after, ok := llm.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			h.set(after)
		}
	}
	return resp, err
}
