package reply_test

import (
	"os"
	"sync"
	"testing"

	"github.com/parleyhq/parley/llm"
	"github.com/parleyhq/parley/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var tokenizer = sync.OnceValues(llm.NewTokenizer)
