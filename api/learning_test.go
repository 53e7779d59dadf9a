package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ingest"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/retrieval"
)

// learningRecords: two intents in English (one with tags) and one German
// entry without an intent, whose answer group is its source.
const learningRecords = `{"records": [
	{"id": "d1", "question": "Where is my parcel?", "answer": "It is on its way.", "intent": "delivery", "tags": ["shipping"]},
	{"id": "d2", "question": "When will my order arrive?", "intent": "delivery"},
	{"id": "r1", "question": "Can I get my money back?", "answer": "Yes, within 30 days.", "intent": "refund", "tags": ["billing"]},
	{"id": "r2", "question": "How do I return an item for a refund?", "intent": "refund"},
	{"id": "geld", "question": "Wie bekomme ich mein Geld zurück?", "answer": "Innerhalb von 30 Tagen, Fehlercode E-12 ausgenommen.", "language": "de"}
]}`

// escalateAs records an escalation of a customer's question the way the
// engine does, with a weak best candidate (the refund_dispute at
// similarity 0.26), and returns the escalation and conversation ids.
func (e *env) escalateAs(customer parley.Customer, lang, question string, reason string) (id, conv string) {
	e.t.Helper()
	ctx, db := context.Background(), pgtest.DB(e.t)
	c, err := db.CreateConversation(ctx, e.ws.ID, "chat", customer, lang)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := db.AddMessage(ctx, parley.NewMessage{WorkspaceID: e.ws.ID, ConversationID: c.ID, Role: parley.RoleCustomer, Text: question}); err != nil {
		e.t.Fatal(err)
	}
	cands, _ := json.Marshal([]map[string]any{{"group": "intent:refund_dispute", "intent": "refund_dispute", "tags": []string{"billing", "legal"}, "similarity": 0.26, "score": 0.3}})
	esc, _, err := db.Escalate(ctx, parley.NewEscalation{
		WorkspaceID: e.ws.ID, ConversationID: c.ID, Reason: reason, Intent: "refund_dispute", Tags: []string{"billing", "legal"},
		CustomerNotice: "Someone will reply.",
		Context: parley.EscalationContext{Question: question, Language: lang, Customer: customer, Channel: "chat",
			Transcript: []parley.Message{{Role: parley.RoleCustomer, Text: question}}, Candidates: cands, Confidence: 0.3},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return esc.ID, c.ID
}

// learning is the "learning" object of a resolve's response.
func learning(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	if esc, ok := body["escalation"].(map[string]any); ok {
		body = esc
	}
	l, _ := body["learning"].(map[string]any)
	if l == nil {
		t.Fatalf("response has no learning: %v", body)
	}
	return l
}

func phrasingText(t *testing.T, l map[string]any) (text, status string) {
	t.Helper()
	p, _ := l["phrasing"].(map[string]any)
	if p == nil {
		t.Fatalf("nothing learned: %v", l)
	}
	return p["text"].(string), p["status"].(string)
}

func (e *ingestEnv) learnedSources() []any {
	e.t.Helper()
	status, body := e.do("GET", "/v1/knowledge-bases/learned/sources", e.admin, "")
	if status == 404 {
		return nil
	}
	if status != 200 {
		e.t.Fatalf("learned sources: %d %v", status, body)
	}
	return list(body, "sources")
}

func wantAbsent(t *testing.T, text string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
			t.Errorf("%q still contains %q", text, w)
		}
	}
}

// The agent names the knowledge that answered; the customer's question,
// masked, becomes a phrasing of it (auto), once; in review mode it waits
// for an admin; foreign or unknown knowledge is refused with nothing
// written; the export is labelled only from the agent's choice and masked.
func TestLearningFromResolutions(t *testing.T) {
	t.Parallel()
	e := newIngestEnv(t, func(o *api.Options) { o.Knowledge = trainedKnowledge(t, nil) })
	agentKey := e.keys[parley.RoleAgent]
	status, body, _ := e.uploadJSON("faq", learningRecords)
	wantResult(t, status, body, map[string]float64{"added": 5})
	e.create("/v1/teams", `{"name": "support"}`)
	ada := e.create("/v1/agents", `{"name": "Ada", "team": "support"}`)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)

	// review is the default; switch to auto.
	if status, body := e.do("GET", "/v1/workspace", e.admin, ""); status != 200 || body["settings"].(map[string]any)["learning"] != "review" {
		t.Fatalf("default learning setting: %d %v", status, body)
	}
	if status, body := e.do("PUT", "/v1/workspace/settings", e.admin, `{"learning": "sometimes"}`); status != 400 {
		t.Fatalf("bad learning setting: %d %v", status, body)
	}
	if status, body := e.do("PUT", "/v1/workspace/settings", e.admin, `{"learning": "auto"}`); status != 200 {
		t.Fatalf("set learning auto: %d %v", status, body)
	}
	parcel := e.sourcesOf("delivery")[0]

	// English, auto: name, e-mail, order number and phone masked.
	anna := parley.Customer{Name: "Anna Weber", Email: "anna.weber@example.com"}
	q1 := "Hi, this is Anna Weber (anna.weber@example.com). My order VO-482913 has not arrived: where is my parcel now? Call +49 30 1234567"
	esc1, conv1 := e.escalateAs(anna, "en", q1, parley.ReasonLowConfidence)
	status, body = e.do("POST", "/v1/escalations/"+esc1+"/resolve", agentKey,
		fmt.Sprintf(`{"agent_id": %q, "reply": "Hi Anna, your order VO-482913 left our warehouse today.", "answered_by": {"source_id": %d}}`, ada, parcel))
	if status != 200 {
		t.Fatalf("resolve: %d %v", status, body)
	}
	if ab, _ := body["answered_by"].(map[string]any); ab == nil || ab["group"] != "intent:delivery" || ab["intent"] != "delivery" {
		t.Fatalf("answered_by %v, want the delivery intent", body["answered_by"])
	}
	text, st := phrasingText(t, learning(t, body))
	if st != parley.PhrasingAdded {
		t.Fatalf("phrasing status %q, want added", st)
	}
	t.Logf("learned in English: %s", text)
	wantAbsent(t, text, "Anna", "Weber", "anna.weber", "482913", "1234567")
	for _, label := range []string{ingest.MaskName, ingest.MaskEmail, ingest.MaskID, ingest.MaskPhone, "where is my parcel now"} {
		if !strings.Contains(text, label) {
			t.Errorf("phrasing %q lacks %q", text, label)
		}
	}
	g, err := pgtest.DB(t).AnswerGroup(context.Background(), e.ws.ID, "intent:delivery")
	if err != nil || !slices.Contains(g.Texts, text) {
		t.Fatalf("group intent:delivery has %v (%v), want the learned phrasing %q", g.Texts, err, text)
	}
	if n := len(e.learnedSources()); n != 1 {
		t.Fatalf("%d learned sources, want 1", n)
	}
	// A learned question is a real customer's: calibration probes it too.
	probes, err := pgtest.DB(t).CalibrationProbes(context.Background(), e.ws.ID, retrieval.LocalModel, 1000)
	if err != nil || !slices.ContainsFunc(probes, func(p retrieval.Probe) bool { return p.Text == text }) {
		t.Fatalf("calibration probes %v (%v) lack the learned phrasing", probes, err)
	}
	wantClasses(t, e.ws.ID, "intent:delivery", "intent:refund") // retrained with it

	// The same question again (other case and punctuation): not twice.
	esc2, _ := e.escalateAs(anna, "en", strings.ToUpper(q1)+"!!", parley.ReasonNoMatch)
	status, body = e.do("POST", "/v1/escalations/"+esc2+"/resolve", agentKey,
		fmt.Sprintf(`{"agent_id": %q, "reply": "On its way.", "answered_by": {"group": "intent:delivery"}}`, ada))
	if status != 200 || learning(t, body)["skipped"] != "duplicate" {
		t.Fatalf("duplicate: %d %v", status, body)
	}
	if n := len(e.learnedSources()); n != 1 {
		t.Fatalf("%d learned sources after a duplicate, want 1", n)
	}

	// Foreign and unknown knowledge: 400, nothing written.
	other := pgtest.Workspace(t)
	kb, _, err := pgtest.DB(t).EnsureKB(context.Background(), other.ID, "faq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testKnowledge(t, nil, nil).Ingest(context.Background(), ingest.Request{WorkspaceID: other.ID, KBID: kb.ID,
		Docs: []ingest.Document{{ExternalID: "x", Kind: ingest.KindFAQ, Question: "Where is my parcel?", Answer: "Elsewhere.", Origin: "x"}}}); err != nil {
		t.Fatal(err)
	}
	srcs, err := pgtest.DB(t).ListSources(context.Background(), other.ID, kb.ID, 0, 10)
	if err != nil || len(srcs) != 1 {
		t.Fatalf("other workspace's sources: %v %v", srcs, err)
	}
	foreign := srcs[0].ID
	esc3, conv3 := e.escalateAs(anna, "en", "Where can I see my parcel's tracking?", parley.ReasonLowConfidence)
	for _, ab := range []string{
		fmt.Sprintf(`{"source_id": %d}`, foreign),
		`{"source_id": 999999999}`,
		`{"group": "source:x"}`,
		fmt.Sprintf(`{"source_id": %d, "chunk_id": 999999999}`, parcel),
		`{"source_id": 1, "group": "intent:delivery"}`,
		`"all"`,
		`{"intent": "delivery"}`,
	} {
		status, body := e.do("POST", "/v1/escalations/"+esc3+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q, "reply": "x", "answered_by": %s}`, ada, ab))
		wantError(t, status, body, 400, "invalid")
		status, body = e.do("POST", "/v1/conversations/"+conv3+"/messages", agentKey, fmt.Sprintf(`{"agent_id": %q, "text": "x", "answered_by": %s}`, ada, ab))
		wantError(t, status, body, 400, "invalid")
	}
	if status, body := e.do("GET", "/v1/escalations/"+esc3, agentKey, ""); status != 200 || body["status"] != "open" || len(list(body, "messages")) != 1 {
		t.Fatalf("after refused resolves: %d %v, want open with only the customer's message", status, body)
	}

	// A reply naming its knowledge (a suggestion sent) is the default of
	// the resolution; "none" learns nothing.
	status, body = e.do("POST", "/v1/conversations/"+conv3+"/messages", agentKey,
		fmt.Sprintf(`{"agent_id": %q, "text": "Track it under My account.", "answered_by": {"group": "intent:delivery"}}`, ada))
	if status != 200 {
		t.Fatalf("reply naming knowledge: %d %v", status, body)
	}
	status, body = e.do("POST", "/v1/escalations/"+esc3+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q}`, ada))
	if status != 200 || body["answered_by"].(map[string]any)["group"] != "intent:delivery" {
		t.Fatalf("resolve after a reply naming knowledge: %d %v", status, body)
	}
	if _, st := phrasingText(t, learning(t, body)); st != parley.PhrasingAdded {
		t.Fatalf("phrasing from the reply's knowledge: %v", body)
	}
	esc4, _ := e.escalateAs(anna, "en", "Can you cancel my subscription?", parley.ReasonNoMatch)
	status, body = e.do("POST", "/v1/escalations/"+esc4+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q, "reply": "Done.", "answered_by": "none"}`, ada))
	if status != 200 || learning(t, body)["skipped"] != "none" {
		t.Fatalf("answered_by none: %d %v", status, body)
	}

	// A request for a person is learned for its topic, or not at all.
	for q, want := range map[string]string{
		"My parcel never came, where is it? Can I speak to a human?": "My parcel never came, where is it?",
		"I want to talk to a person":                                 "",
		"E-09 display fault on my bike, can I speak to someone?":     "[id] display fault on my bike", // E-09: not in the delivery answer
	} {
		id, _ := e.escalateAs(anna, "en", q, parley.ReasonHumanRequested)
		status, body = e.do("POST", "/v1/escalations/"+id+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q, "reply": "Ok.", "answered_by": {"group": "intent:delivery"}}`, ada))
		l := learning(t, body)
		if want == "" {
			if status != 200 || l["skipped"] != "human_request" {
				t.Errorf("%q: %d %v, want skipped human_request", q, status, l)
			}
			continue
		}
		if text, _ := phrasingText(t, l); text != want {
			t.Errorf("%q learned as %q, want its topic %q", q, text, want)
		}
	}

	// German, review mode, resolved through the conversation.
	if status, body := e.do("PUT", "/v1/workspace/settings", e.admin, `{"learning": "review", "languages": ["en", "de"]}`); status != 200 {
		t.Fatalf("set learning review: %d %v", status, body)
	}
	jorg := parley.Customer{Name: "Jörg Müller", ID: "kunde-7781"}
	q5 := "Hallo, hier ist Jörg Müller, Kundennummer kunde-7781, Bestellung 10023456 – Fehlercode E-12: wie bekomme ich mein Geld zurück? Viele Grüße, Jörg"
	_, conv5 := e.escalateAs(jorg, "de", q5, parley.ReasonLowConfidence)
	status, body = e.do("POST", "/v1/conversations/"+conv5+"/messages", agentKey,
		fmt.Sprintf(`{"agent_id": %q, "text": "Hallo Jörg, Ihre Bestellung 10023456 wird erstattet.", "resolve": true, "answered_by": {"group": "source:geld"}}`, ada))
	if status != 200 {
		t.Fatalf("resolve in German: %d %v", status, body)
	}
	text, st = phrasingText(t, learning(t, body))
	if st != parley.PhrasingPending {
		t.Fatalf("phrasing status %q in review mode, want pending", st)
	}
	t.Logf("learned in German: %s", text)
	wantAbsent(t, text, "Jörg", "Müller", "7781", "10023456")
	if !strings.Contains(text, "E-12") || !strings.Contains(text, "wie bekomme ich mein Geld zurück") {
		t.Errorf("phrasing %q lost the error code its answer explains, or the question", text)
	}
	n := len(e.learnedSources())
	status, body = e.do("GET", "/v1/learning/phrasings?status=pending", e.admin, "")
	pending := list(body, "phrasings")
	if status != 200 || len(pending) != 1 || pending[0].(map[string]any)["text"] != text {
		t.Fatalf("pending phrasings: %d %v", status, body)
	}
	if status, body := e.do("GET", "/v1/learning/phrasings", agentKey, ""); status != 403 {
		t.Fatalf("agent lists phrasings: %d %v, want 403", status, body)
	}
	id := pending[0].(map[string]any)["id"].(string)
	status, body = e.do("POST", "/v1/learning/phrasings/"+id+"/approve", e.admin, "")
	if status != 200 || body["status"] != parley.PhrasingAdded {
		t.Fatalf("approve: %d %v", status, body)
	}
	if got := len(e.learnedSources()); got != n+1 {
		t.Fatalf("%d learned sources after approval, want %d", got, n+1)
	}
	status, body = e.do("POST", "/v1/learning/phrasings/"+id+"/reject", e.admin, "")
	wantError(t, status, body, 409, "conflict")
	status, body = e.do("POST", "/v1/learning/phrasings/00000000-0000-0000-0000-000000000000/approve", e.admin, "")
	wantError(t, status, body, 404, "not_found")

	// A rejected phrasing is not added, nor queued again.
	q6 := "Kann ich mein Geld zurückbekommen, wenn das Paket beschädigt ist?"
	esc6, _ := e.escalateAs(jorg, "de", q6, parley.ReasonLowConfidence)
	_, body = e.do("POST", "/v1/escalations/"+esc6+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q, "reply": "Ja.", "answered_by": {"group": "source:geld"}}`, ada))
	id = learning(t, body)["phrasing"].(map[string]any)["id"].(string)
	if status, body := e.do("POST", "/v1/learning/phrasings/"+id+"/reject", e.admin, ""); status != 200 || body["status"] != parley.PhrasingRejected {
		t.Fatalf("reject: %d %v", status, body)
	}
	esc7, _ := e.escalateAs(jorg, "de", q6, parley.ReasonLowConfidence)
	_, body = e.do("POST", "/v1/escalations/"+esc7+"/resolve", agentKey, fmt.Sprintf(`{"agent_id": %q, "reply": "Ja.", "answered_by": {"group": "source:geld"}}`, ada))
	if learning(t, body)["skipped"] != "duplicate" || len(e.learnedSources()) != n+1 {
		t.Fatalf("rejected phrasing asked again: %v", body)
	}

	// A request for a person in German: learned for its topic.
	_, conv8 := e.escalateAs(jorg, "de", "Mein Paket ist nicht angekommen. Kann ich bitte mit einem Mitarbeiter sprechen?", parley.ReasonHumanRequested)
	_, body = e.do("POST", "/v1/conversations/"+conv8+"/messages", agentKey,
		fmt.Sprintf(`{"agent_id": %q, "text": "Es ist unterwegs.", "resolve": true, "answered_by": {"group": "intent:delivery"}}`, ada))
	if text, _ := phrasingText(t, learning(t, body)); text != "Mein Paket ist nicht angekommen." {
		t.Errorf("German request for a person learned as %q", text)
	}

	// The export: labels only from the agent's choice, masked.
	st2, _, raw := e.raw("/v1/conversations/resolved?since="+since, agentKey)
	if st2 != 200 {
		t.Fatalf("export: %d %s", st2, raw)
	}
	if strings.Contains(raw, "refund_dispute") || strings.Contains(raw, "legal") {
		t.Errorf("export carries the weak candidate's labels:\n%s", raw)
	}
	wantAbsent(t, raw, "Anna", "Weber", "482913", "Jörg", "Müller", "10023456", "anna.weber")
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		var c parley.ResolvedConversation
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		switch c.ID {
		case conv1:
			if c.Intent != "delivery" || strings.Join(c.Tags, ",") != "shipping" || c.Resolution != "Hi [name], your order [id] left our warehouse today." {
				t.Errorf("export of the English conversation: %+v", c)
			}
		case conv5:
			if c.Intent != "" || len(c.Tags) != 0 || c.Resolution != "Hallo [name], Ihre Bestellung [id] wird erstattet." {
				t.Errorf("export of the German conversation: %+v", c)
			}
		}
	}
}
