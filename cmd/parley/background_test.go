package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// Background work starts together and stops together: periodic tasks run
// at start and then on their interval, and stop returns only once every
// loop has returned; nothing runs after it.
func TestBackgroundStartsAndStopsEveryPart(t *testing.T) {
	t.Parallel()
	var (
		runs     atomic.Int64
		returned atomic.Bool
	)
	started := make(chan struct{})
	b := &background{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		loops: []loop{{name: "loop", run: func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond) // hands work back
			returned.Store(true)
			return nil
		}}},
		tasks: []periodic{{name: "task", every: 20 * time.Millisecond, run: func(context.Context) (int, error) {
			runs.Add(1)
			return 1, nil
		}}},
	}
	if err := b.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-started
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the periodic task ran %d times in 10 s", runs.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := b.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !returned.Load() {
		t.Fatal("stop returned before the loop did")
	}
	after := runs.Load()
	time.Sleep(100 * time.Millisecond)
	if runs.Load() != after {
		t.Fatalf("the periodic task ran after stop (%d, then %d)", after, runs.Load())
	}
}
