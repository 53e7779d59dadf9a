package parley_test

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley"
)

func TestAnsweredByJSON(t *testing.T) {
	t.Parallel()
	good := map[string]parley.AnsweredBy{
		`"none"`:                           {None: true},
		`{"source_id": 42}`:                {SourceID: 42},
		`{"source_id": 42, "chunk_id": 9}`: {SourceID: 42, ChunkID: 9},
		`{"group": "intent:refund"}`:       {Group: "intent:refund"},
	}
	for in, want := range good {
		var got parley.AnsweredBy
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
		out, err := json.Marshal(got)
		var again parley.AnsweredBy
		if err != nil || json.Unmarshal(out, &again) != nil || again != want {
			t.Errorf("%s: round trip through %s gave %+v", in, out, again)
		}
	}
	for _, in := range []string{`"all"`, `{}`, `{"chunk_id": 9}`, `{"source_id": 1, "group": "x"}`, `{"source_id": -1}`, `{"intent": "refund"}`, `7`, `[]`} {
		var got parley.AnsweredBy
		err := json.Unmarshal([]byte(in), &got)
		if parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("%s: %v, want invalid", in, err)
		}
	}
}
