package openai

import (
	"context"
	"time"
)

// SetSleep replaces the wait between retries of a ChatModel or Embedder.
func SetSleep(x any, sleep func(context.Context, time.Duration) error) {
	switch v := x.(type) {
	case *ChatModel:
		v.retry.sleep = sleep
	case *Embedder:
		v.retry.sleep = sleep
	}
}
