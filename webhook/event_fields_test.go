package webhook_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// The engine stores its candidates (retrieval.Candidate) in the
// escalation's context, and escalation.created sends them from there as
// they are: a field added to retrieval.Candidate or retrieval.SourceRef
// would reach receivers without parley.EscalationEventCandidate knowing
// of it. Their JSON fields must stay the same, so such a change is made
// in the event type too, on purpose (and in the golden files).
func TestEventCandidatesHaveTheEnginesFields(t *testing.T) {
	for _, pair := range []struct{ engine, event any }{
		{retrieval.Candidate{}, parley.EscalationEventCandidate{}},
		{retrieval.SourceRef{}, parley.EscalationEventSource{}},
	} {
		engine, event := jsonFields(reflect.TypeOf(pair.engine)), jsonFields(reflect.TypeOf(pair.event))
		if !slices.Equal(engine, event) {
			t.Errorf("%T has JSON fields\n  %v\nbut %T has\n  %v", pair.engine, engine, pair.event, event)
		}
	}
}

// jsonFields lists a struct type's JSON field tags (name and options),
// sorted.
func jsonFields(typ reflect.Type) []string {
	var tags []string
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if name, _, _ := strings.Cut(tag, ","); name == "" {
			tag = f.Name + tag
		}
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	return tags
}
