package ingest_test

import (
	"testing"

	"github.com/parleyhq/parley/ingest"
)

func TestLoadFAQJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		content string
		opts    ingest.LoadOptions
		want    []ingest.Document
	}{
		{
			name: "array",
			file: "faq.json",
			content: `[
  {"id": 12, "question": "Do you ship abroad?", "answer": "Yes.", "tags": ["shipping", "intl"], "extra": {"ignored": true}},
  {"Question": "Can I return an item?", "Intent": "returns", "tags": "returns; policy"}
]`,
			want: []ingest.Document{
				{ExternalID: "12", Kind: ingest.KindFAQ, Question: "Do you ship abroad?", Answer: "Yes.", Tags: []string{"shipping", "intl"}, Origin: "faq.json:2"},
				{Question: "Can I return an item?", Intent: "returns", Tags: []string{"returns", "policy"}, Origin: "faq.json:3"},
			},
		},
		{
			name:    "JSON Lines with blank lines and CRLF",
			file:    "faq.jsonl",
			content: "{\"question\": \"a?\", \"answer\": \"b\"}\r\n\r\n{\"question\": \"c?\", \"answer\": \"d\", \"language\": \"de\"}\r\n",
			want: []ingest.Document{
				{Question: "a?", Answer: "b", Origin: "faq.jsonl:1"},
				{Question: "c?", Answer: "d", Language: "de", Origin: "faq.jsonl:3"},
			},
		},
		{
			name:    "key mapping",
			file:    "faq.jsonl",
			content: `{"text": "How long is delivery?", "category": "shipping", "reply": null}`,
			opts:    ingest.LoadOptions{Columns: map[string]string{"question": "text", "intent": "category", "answer": "reply"}},
			want:    []ingest.Document{{Question: "How long is delivery?", Intent: "shipping"}},
		},
		{
			name:    "JSON Lines in a .json file",
			file:    "faq.json",
			content: "{\"question\": \"a?\", \"answer\": \"b\"}\n{\"question\": \"c?\", \"answer\": \"d\"}\n",
			want:    []ingest.Document{{Question: "a?"}, {Question: "c?"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			docs, _, err := load(t, tt.file, tt.content, tt.opts)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkDocs(t, docs, tt.want)
		})
	}
}

func TestLoadFAQJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		content string
		want    []string
	}{
		{"empty", "faq.json", "", []string{"faq.json: empty file"}},
		{"empty array", "faq.json", "[]", []string{"faq.json: no entries"}},
		{"broken array", "faq.json", "[\n{\"question\": \"a\", \"answer\": \"b\"},\n{\"question\": \"c\" \"answer\": \"d\"}\n]", []string{"faq.json:3: invalid JSON"}},
		{"truncated array", "faq.json", "[\n{\"question\": \"a\", \"answer\": \"b\"},\n{\"question\": \"c\"", []string{"faq.json:3: invalid JSON"}},
		{"trailing data", "faq.json", "[{\"question\": \"a\", \"answer\": \"b\"}]\n]", []string{"faq.json:2", "after the closing ]"}},
		{"element not an object", "faq.json", "[\n\"just a string\"\n]", []string{"faq.json:2: array element 1 is a JSON string"}},
		{"broken line", "faq.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}\n{\"question\": \"c\", }\n", []string{"faq.jsonl:2: invalid JSON"}},
		{"object over several lines", "faq.jsonl", "{\n\"question\": \"a\"\n}\n", []string{"faq.jsonl:1", "spans several lines"}},
		{"not an object", "faq.jsonl", "[1]\n{}\n", []string{"faq.jsonl:1"}},
		{"two values on a line", "faq.jsonl", "{\"question\": \"a\", \"answer\": \"b\"} {}\n", []string{"faq.jsonl:1", "more than one value"}},
		{"question is an object", "faq.jsonl", `{"question": {"en": "a"}, "answer": "b"}`, []string{`faq.jsonl:1: field "question": want a string, got an object`}},
		{"tags is a number list", "faq.jsonl", `{"question": "a", "answer": "b", "tags": [true]}`, []string{`field "tags": item 1: want a string, got a boolean`}},
		{"empty question", "faq.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}\n{\"question\": \" \", \"answer\": \"b\"}", []string{`faq.jsonl:2: field "question": empty`}},
		{"duplicate ids", "faq.jsonl", "{\"id\": \"x\", \"question\": \"a\", \"answer\": \"b\"}\n{\"id\": \"x\", \"question\": \"c\", \"answer\": \"d\"}", []string{`faq.jsonl:2: field "id": duplicate id "x" (also at faq.jsonl:1)`}},
		{"invalid UTF-8", "faq.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}\n{\"question\": \"\xff\", \"answer\": \"b\"}", []string{"faq.jsonl:2: not valid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tt.file, tt.content, ingest.LoadOptions{})
			wantInputError(t, err, tt.want...)
		})
	}
}
