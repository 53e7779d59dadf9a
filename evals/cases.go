package evals

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// Case is one question (or short conversation) and what should happen.
type Case struct {
	ID       string `json:"id"`
	Query    string `json:"query,omitempty"`
	Messages []Turn `json:"messages,omitempty"`
	// Expected: an answer of this intent or from one of these sources, or
	// an escalation.
	Intent    string   `json:"intent,omitempty"`
	SourceIDs []string `json:"source_ids,omitempty"`
	Escalate  bool     `json:"escalate,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	// SmallTalk: a greeting, thanks or goodbye, to be answered as small
	// talk (neither from the knowledge nor escalated).
	SmallTalk bool `json:"small_talk,omitempty"`
}

// Turn is one message of a case's conversation.
type Turn struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// Question is the customer message the engine answers: the last turn.
func (c Case) Question() string {
	if len(c.Messages) > 0 {
		return c.Messages[len(c.Messages)-1].Text
	}
	return c.Query
}

// inScope reports whether the case expects an answer from the knowledge.
func (c Case) inScope() bool { return !c.Escalate && !c.SmallTalk }

// loadCases reads JSONL (or a JSON array) or CSV cases.
func loadCases(path string, spec CasesSpec) ([]Case, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	var cases []Case
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		cases, err = casesFromCSV(raw, path, spec.Columns)
	case ".jsonl", ".json":
		cases, err = casesFromJSON(raw, path, spec.Columns)
	default:
		return nil, parley.Errorf(parley.EInvalid, "cases %s: use .jsonl, .json or .csv", path)
	}
	if err != nil {
		return nil, err
	}
	if len(cases) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "cases %s: no cases", path)
	}
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if c.ID == "" {
			c.ID = fmt.Sprintf("case-%d", i+1)
		}
		if seen[c.ID] {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: id %q is used twice", path, c.ID)
		}
		seen[c.ID] = true
		if spec.EscalateLabel != "" && c.Intent == spec.EscalateLabel {
			c.Intent, c.Escalate = "", true
		}
		if strings.TrimSpace(c.Question()) == "" {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: case %s has no query or messages", path, c.ID)
		}
		if len(c.Messages) > 0 && c.Messages[len(c.Messages)-1].Role != parley.RoleCustomer {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: case %s: the last message must be the customer's", path, c.ID)
		}
		if c.Escalate && c.SmallTalk {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: case %s expects both escalate and small_talk", path, c.ID)
		}
		if !c.Escalate && !c.SmallTalk && c.Intent == "" && len(c.SourceIDs) == 0 {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: case %s expects nothing: give intent, source_ids, escalate or small_talk", path, c.ID)
		}
	}
	return cases, nil
}

// field returns the column or key holding a case field.
func field(columns map[string]string, name string) string {
	if c, ok := columns[name]; ok {
		return strings.ToLower(c)
	}
	return name
}

func casesFromCSV(raw []byte, path string, columns map[string]string) ([]Case, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "cases %s: read header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	qi, ok := col[field(columns, "query")]
	if !ok {
		return nil, parley.Errorf(parley.EInvalid, "cases %s: no %q column (header: %s); map it with columns: {\"query\": \"...\"}",
			path, field(columns, "query"), strings.Join(header, ", "))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[field(columns, name)]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var cases []Case
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		c := Case{ID: get(rec, "id"), Intent: get(rec, "intent"), Reason: get(rec, "reason")}
		if qi < len(rec) {
			c.Query = strings.TrimSpace(rec[qi])
		}
		if c.ID == "" {
			c.ID = fmt.Sprintf("line-%d", line)
		}
		if s := get(rec, "source_ids"); s != "" {
			c.SourceIDs = strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
		}
		if e := get(rec, "escalate"); e != "" {
			if c.Escalate, err = strconv.ParseBool(e); err != nil {
				return nil, parley.Errorf(parley.EInvalid, "cases %s:%d: escalate must be true or false, got %q", path, line, e)
			}
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func casesFromJSON(raw []byte, path string, columns map[string]string) ([]Case, error) {
	var objs []map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &objs); err != nil {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: %v", path, err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for line := 1; sc.Scan(); line++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var o map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				return nil, parley.Errorf(parley.EInvalid, "cases %s:%d: %v", path, line, err)
			}
			objs = append(objs, o)
		}
		if err := sc.Err(); err != nil {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: %v", path, err)
		}
	}
	cases := make([]Case, 0, len(objs))
	for i, o := range objs {
		// Rename mapped keys to the case fields, then decode strictly.
		renamed := map[string]json.RawMessage{}
		for k, v := range o {
			renamed[strings.ToLower(k)] = v
		}
		for f, c := range columns {
			if v, ok := renamed[strings.ToLower(c)]; ok {
				delete(renamed, strings.ToLower(c))
				renamed[f] = v
			}
		}
		b, _ := json.Marshal(renamed)
		var c Case
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, parley.Errorf(parley.EInvalid, "cases %s: case %d: %v", path, i+1, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}
