package ingest_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ingest"
)

func TestLoadFAQCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		opts    ingest.LoadOptions
		want    []ingest.Document // compared on the fields set here
	}{
		{
			name:    "basic",
			content: "id,question,answer,intent,tags,language,title,url\nq1,How do I reset my password?,Use the link.,account,a;b,en,Passwords,https://x/1\n",
			want: []ingest.Document{{
				ExternalID: "q1", Kind: ingest.KindFAQ, Question: "How do I reset my password?", Answer: "Use the link.",
				Intent: "account", Tags: []string{"a", "b"}, Language: "en", Title: "Passwords", URL: "https://x/1", Origin: "faq.csv:2",
			}},
		},
		{
			name:    "BOM, CRLF and quoted multiline cell",
			content: "\xEF\xBB\xBFQuestion,Answer\r\n\"Where is\r\nmy parcel?\",\"Line one\r\nline two, with a comma\"\r\nSecond?,Yes\r\n",
			want: []ingest.Document{
				{Question: "Where is\nmy parcel?", Answer: "Line one\nline two, with a comma", Origin: "faq.csv:2"},
				{Question: "Second?", Answer: "Yes", Origin: "faq.csv:5"}, // the first record spans lines 2-4
			},
		},
		{
			name:    "semicolon delimiter",
			content: "question;answer;tags\nCan I pay by card?;Yes, all major cards.;billing,cards\n",
			want:    []ingest.Document{{Question: "Can I pay by card?", Answer: "Yes, all major cards.", Tags: []string{"billing", "cards"}}},
		},
		{
			name:    "column mapping",
			content: "Text,Reply,Category\nHow long is delivery?,2-5 days,shipping\n",
			opts:    ingest.LoadOptions{Columns: map[string]string{"question": "text", "answer": "Reply", "intent": "category"}},
			want:    []ingest.Document{{Question: "How long is delivery?", Answer: "2-5 days", Intent: "shipping"}},
		},
		{
			name:    "intent without answer, tags with pipes, short rows, blank rows",
			content: "question,intent,tags,answer\nTalk to a human,handoff, a | b | a \n,,,\nAnother one,other\n",
			want: []ingest.Document{
				{Question: "Talk to a human", Intent: "handoff", Tags: []string{"a", "b"}},
				{Question: "Another one", Intent: "other", Origin: "faq.csv:4"},
			},
		},
		{
			name:    "same question and answer twice is kept once",
			content: "question,answer\nHi?,Hello\nhi?,Hello\n",
			want:    []ingest.Document{{Question: "Hi?", Answer: "Hello", Origin: "faq.csv:2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			docs, _, err := load(t, "faq.csv", tt.content, tt.opts)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkDocs(t, docs, tt.want)
		})
	}
}

func TestLoadFAQCSVExternalID(t *testing.T) {
	t.Parallel()
	docs, _, err := load(t, "faq.csv", "question,answer,intent\nHow do I  RESET my password?,a,account\nhow do i reset my password?,b,other\n", ingest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := docs[0].ExternalID; !strings.HasPrefix(got, "faq:") || !strings.HasSuffix(got, "|account") || len(got) != len("faq:")+16+len("|account") {
		t.Errorf("ExternalID = %q, want faq:<16 hex>|account", got)
	}
	// The same normalised question under another intent is another entry.
	if strings.TrimSuffix(docs[0].ExternalID, "account") != strings.TrimSuffix(docs[1].ExternalID, "other") {
		t.Errorf("ExternalIDs %q and %q should share the question hash", docs[0].ExternalID, docs[1].ExternalID)
	}
}

func TestLoadFAQCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		opts    ingest.LoadOptions
		want    []string
		is      error
	}{
		{"empty file", "", ingest.LoadOptions{}, []string{"faq.csv: empty file"}, nil},
		{"only spaces", " \n\n", ingest.LoadOptions{}, []string{"empty file"}, nil},
		{"header only", "question,answer\n", ingest.LoadOptions{}, []string{"no entries"}, nil},
		{"missing question column", "text,answer\nq,a\n", ingest.LoadOptions{}, []string{`faq.csv:1: no "question" column`, `the header has: "text", "answer"`}, nil},
		{"missing answer and intent", "question,reply\nq,a\n", ingest.LoadOptions{}, []string{`no "answer" or "intent" column`, `"reply"`}, nil},
		{"mapped column missing", "question,answer\nq,a\n", ingest.LoadOptions{Columns: map[string]string{"question": "text"}}, []string{`no "text" column`}, nil},
		{"unknown field in mapping", "question,answer\nq,a\n", ingest.LoadOptions{Columns: map[string]string{"questoin": "text"}}, []string{`unknown field "questoin"`}, nil},
		{"empty question", "question,answer\nq,a\n ,b\n", ingest.LoadOptions{}, []string{`faq.csv:3: field "question": empty`}, nil},
		{"empty question in mapped column", "text,answer\n ,b\n", ingest.LoadOptions{Columns: map[string]string{"question": "text"}}, []string{`faq.csv:2: field "question": empty (column "text")`}, nil},
		{"no answer and no intent", "question,answer,intent\nq,,\n", ingest.LoadOptions{}, []string{`faq.csv:2: field "answer": empty`, "answer or an intent"}, nil},
		{"invalid UTF-8", "question,answer\nq,a\ncaf\xe9,b\n", ingest.LoadOptions{}, []string{"faq.csv:3: not valid UTF-8; save the file as UTF-8"}, nil},
		{"UTF-16", "\xFF\xFEq\x00,\x00", ingest.LoadOptions{}, []string{"UTF-16"}, nil},
		{"duplicate ids", "id,question,answer\n1,a,b\n2,c,d\n1,e,f\n", ingest.LoadOptions{}, []string{`faq.csv:4: field "id": duplicate id "1" (also at faq.csv:2)`}, nil},
		{"same question, different answer", "question,answer\nq,a\nQ,b\n", ingest.LoadOptions{}, []string{"faq.csv:3", "same question and intent as faq.csv:2"}, nil},
		{"question over 16 KB", "question,answer\nq,a\n" + strings.Repeat("q", 16<<10+1) + ",a\n", ingest.LoadOptions{}, []string{`faq.csv:3: field "question": 16385 bytes, over the limit of 16384`}, nil},
		{"bare quote", "question,answer\nq,a\"b\n", ingest.LoadOptions{}, []string{"faq.csv:2: malformed CSV"}, nil},
		{"too many records", "question,answer\na,1\nb,2\nc,3\n", ingest.LoadOptions{MaxRecords: 2}, []string{"faq.csv:4", "too many records"}, ingest.ErrTooMany},
		{"file too large", "question,answer\n" + strings.Repeat("q,a\n", 100), ingest.LoadOptions{MaxFileBytes: 100}, []string{"faq.csv: file too large: more than 100 bytes, limit 100"}, ingest.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, "faq.csv", tt.content, tt.opts)
			wantInputError(t, err, tt.want...)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// checkDocs compares docs with want on the fields want sets.
func checkDocs(t *testing.T, docs, want []ingest.Document) {
	t.Helper()
	if len(docs) != len(want) {
		t.Fatalf("got %d documents, want %d: %+v", len(docs), len(want), docs)
	}
	for i, w := range want {
		g := docs[i]
		check := func(field, got, want string) {
			if want != "" && got != want {
				t.Errorf("doc %d %s = %q, want %q", i, field, got, want)
			}
		}
		check("ExternalID", g.ExternalID, w.ExternalID)
		check("Kind", string(g.Kind), string(w.Kind))
		check("Question", g.Question, w.Question)
		check("Answer", g.Answer, w.Answer)
		check("Intent", g.Intent, w.Intent)
		check("Language", g.Language, w.Language)
		check("Title", g.Title, w.Title)
		check("URL", g.URL, w.URL)
		check("Body", g.Body, w.Body)
		check("Origin", g.Origin, w.Origin)
		if w.Tags != nil && !slices.Equal(g.Tags, w.Tags) {
			t.Errorf("doc %d Tags = %q, want %q", i, g.Tags, w.Tags)
		}
	}
}

// ParseColumn trims both sides, lower-cases the field and rejects an empty
// side.
func TestParseColumn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, field, column string }{
		{"question=text", "question", "text"},
		{" Intent = Category Name ", "intent", "Category Name"},
		{"answer=a=b", "answer", "a=b"},
	} {
		field, column, err := ingest.ParseColumn(tt.in)
		if err != nil || field != tt.field || column != tt.column {
			t.Errorf("ParseColumn(%q) = %q, %q, %v; want %q, %q", tt.in, field, column, err, tt.field, tt.column)
		}
	}
	for _, in := range []string{"question", "=text", "question=", " =text", "question= ", ""} {
		if field, column, err := ingest.ParseColumn(in); err == nil || !strings.Contains(err.Error(), "FIELD=COLUMN") {
			t.Errorf("ParseColumn(%q) = %q, %q, %v; want an error naming FIELD=COLUMN", in, field, column, err)
		}
	}
}
