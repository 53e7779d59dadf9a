package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// loadConversations reads resolved conversations, one JSON object a line
// (a JSON array of the same objects is accepted too):
//
//	{"id": "c-1", "messages": [{"role": "customer", "text": "...", "at": "2024-05-01T10:00:00Z"}, ...],
//	 "resolution": "...", "intent": "...", "tags": [...], "language": "en", "title": "..."}
//
// The question is what the customer wrote before the first agent reply; the
// answer is the resolution, else the agent's last message. A conversation
// with no agent reply and no resolution, or no customer message, is skipped
// and reported. PII is masked unless opts.KeepPII is set.
func loadConversations(data []byte, name string, opts LoadOptions, c *collector) error {
	text, err := requireText(data, name)
	if err != nil {
		return err
	}
	objects := 0
	err = readJSONObjects(text, name, func(obj jsonObject) error {
		objects++
		origin := at(name, obj.line)
		d, skip, err := conversationDocument(obj, origin)
		if err != nil {
			return err
		}
		if skip != "" {
			c.report.skip(origin, "%s", skip)
			return nil
		}
		if !opts.KeepPII {
			d = maskDocument(d)
		}
		return c.add(d)
	})
	if err != nil {
		return err
	}
	if objects == 0 {
		return inputErrorf(name, "", "no conversations")
	}
	return nil
}

// conversationDocument builds the Document of one conversation; skip is the
// reason it holds nothing to learn from.
func conversationDocument(obj jsonObject, origin string) (d Document, skip string, err error) {
	str := func(field string) (string, error) {
		s, err := jsonString(obj.fields[field])
		if err != nil {
			return "", inputErrorf(origin, field, "%v", err)
		}
		return cleanValue(s), nil
	}
	d = Document{Kind: KindConversation, Origin: origin}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"id", &d.ExternalID}, {"resolution", &d.Answer}, {"intent", &d.Intent},
		{"language", &d.Language}, {"title", &d.Title}, {"url", &d.URL},
	} {
		if *f.dst, err = str(f.name); err != nil {
			return Document{}, "", err
		}
	}
	if d.ExternalID == "" {
		return Document{}, "", inputErrorf(origin, "id", "missing: every conversation needs an id")
	}
	if raw, ok := obj.fields["tags"]; ok {
		if d.Tags, err = jsonStrings(raw); err != nil {
			return Document{}, "", inputErrorf(origin, "tags", "%v", err)
		}
	}
	raw, ok := obj.fields["messages"]
	if !ok {
		return Document{}, "", inputErrorf(origin, "messages", "missing")
	}
	var turns []json.RawMessage
	if err := json.Unmarshal(raw, &turns); err != nil {
		return Document{}, "", inputErrorf(origin, "messages", `want an array of {"role", "text", "at"} objects`)
	}
	for i, rt := range turns {
		turn, err := parseTurn(rt)
		if err != nil {
			field := fmt.Sprintf("messages[%d]", i)
			if err.field != "" {
				field += "." + err.field
			}
			return Document{}, "", inputErrorf(origin, field, "%s", err.msg)
		}
		if turn.Text != "" {
			d.Transcript = append(d.Transcript, turn)
		}
	}
	question, lastAgent := splitConversation(d.Transcript)
	d.Question = question
	if d.Answer == "" {
		d.Answer = lastAgent
	}
	switch {
	case d.Question == "":
		return Document{}, "no customer message", nil
	case d.Answer == "":
		return Document{}, "no agent reply and no resolution", nil
	}
	return d, "", nil
}

type turnError struct{ field, msg string }

// parseTurn reads one message: {"role", "text" (or "content"), "at"}.
func parseTurn(raw json.RawMessage) (Turn, *turnError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return Turn{}, &turnError{"", "want an object"}
	}
	obj = lowerKeys(obj)
	get := func(key string) (string, *turnError) {
		s, err := jsonString(obj[key])
		if err != nil {
			return "", &turnError{key, err.Error()}
		}
		return s, nil
	}
	rawRole, terr := get("role")
	if terr != nil {
		return Turn{}, terr
	}
	role := strings.ToLower(strings.TrimSpace(rawRole))
	switch role {
	case parley.RoleCustomer, parley.RoleHuman, parley.RoleBot:
	case "":
		return Turn{}, &turnError{"role", "missing (want customer, agent or bot)"}
	default:
		return Turn{}, &turnError{"role", fmt.Sprintf("unknown role %q (want customer, agent or bot)", rawRole)}
	}
	textKey := "text"
	if _, ok := obj["text"]; !ok {
		textKey = "content"
	}
	text, terr := get(textKey)
	if terr != nil {
		return Turn{}, terr
	}
	turn := Turn{Role: role, Text: cleanValue(text)}
	rawAt, terr := get("at")
	if terr != nil {
		return Turn{}, terr
	}
	if rawAt = strings.TrimSpace(rawAt); rawAt != "" {
		t, err := time.Parse(time.RFC3339, rawAt)
		if err != nil {
			return Turn{}, &turnError{"at", fmt.Sprintf("want an RFC 3339 time like 2024-05-01T10:00:00Z, got %q", rawAt)}
		}
		turn.At = t
	}
	return turn, nil
}

// splitConversation returns what the customer asked (their turns up to the
// first agent message that follows one of theirs, joined by "\n") and the
// agent's last message. Bot turns take part in neither.
func splitConversation(turns []Turn) (question, lastAgent string) {
	var asked []string
	answered := false
	for _, t := range turns {
		switch t.Role {
		case parley.RoleCustomer:
			if !answered {
				asked = append(asked, t.Text)
			}
		case parley.RoleHuman:
			if len(asked) > 0 {
				answered = true
			}
			lastAgent = t.Text
		}
	}
	return strings.Join(asked, "\n"), lastAgent
}

// maskDocument masks PII in everything a conversation document shows.
func maskDocument(d Document) Document {
	d.Question = MaskPII(d.Question)
	d.Answer = MaskPII(d.Answer)
	d.Title = MaskPII(d.Title)
	turns := make([]Turn, len(d.Transcript))
	for i, t := range d.Transcript {
		t.Text = MaskPII(t.Text)
		turns[i] = t
	}
	d.Transcript = turns
	return d
}
