package reply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// CalibrationStore keeps the workspaces' calibrations (postgres.DB does).
// With one (Options.Calibrations), the engine fits a workspace's
// calibration on request (Calibrate) and answers only at or above its
// threshold.
type CalibrationStore interface {
	Workspace(ctx context.Context, id string) (parley.Workspace, error)
	// CalibrationProbes returns up to limit of the workspace's FAQ
	// questions of model that have an answer, spread over its answer
	// groups.
	CalibrationProbes(ctx context.Context, workspaceID, model string, limit int) ([]retrieval.Probe, error)
	// CalibrationPhrasings returns up to perGroup of each group's
	// questions of model (FAQ questions and example phrasings), at most
	// limit in all.
	CalibrationPhrasings(ctx context.Context, workspaceID, model string, perGroup, limit int) ([]retrieval.Probe, error)
	SaveCalibration(ctx context.Context, workspaceID, model string, c retrieval.Calibration) error
	// TrainingExamples streams the workspace's labelled chunks of model
	// with their vectors, as the intent classifier learns from them.
	TrainingExamples(ctx context.Context, workspaceID, model string, fn func(retrieval.Example) error) error
	// Calibration returns the stored calibration, or false when there is
	// none.
	Calibration(ctx context.Context, workspaceID, model string) (retrieval.Calibration, bool, error)
}

// Calibration settings.
const (
	// CalibrationTarget is the precision a workspace's threshold is
	// fitted to reach on its probes.
	CalibrationTarget = 0.95
	// maxProbes is how many of a workspace's FAQ questions are asked.
	maxProbes = 150
	// offSubjectPerGroup is how many of an answer group's questions (its
	// FAQ question and example phrasings) are asked with the group left
	// out. One question says only whether it leaks to a neighbouring
	// answer; customers' questions on a missing topic leak at the rate of
	// all its phrasings, which differ (BENCHMARKS.md: with one question
	// per intent the estimate was lowest where the bars are strict).
	offSubjectPerGroup = 6
	// calibrationFolds is how many classifiers a calibration trains, each
	// without a fifth of the probes.
	calibrationFolds = 5
	// minHeldOutClass is the fewest examples a class keeps when one of its
	// questions is held out of a fold's classifier. A class of an FAQ
	// entry with one phrasing has two (the phrasing and the answer text):
	// without its phrasing it would be judged on the answer text alone,
	// which is harder than customers' questions are, for those paraphrase
	// the phrasing the knowledge does hold. Such a probe is asked of a
	// classifier that has learned it, as the workspace's own has.
	minHeldOutClass = 2
)

// Calibrate fits the workspace's answer bars for the engine's embedder
// and stores them. Three kinds of questions are asked: each of its FAQ
// questions (up to maxProbes, spread over its answer groups) with its own
// chunk left out, so it can only be answered from the entry's answer text
// or from other phrasings; up to offSubjectPerGroup questions of each of
// their answer groups (the FAQ question and example phrasings) with the
// whole group left out, as questions on the workspace's subject that its
// knowledge does not cover, the hardest to tell from its own (a group's
// questions share one vote: each missing topic counts once); and generic
// out-of-scope questions in the workspace's languages, which also fix the
// no-match floor (MinSimilarity). The last two must not be answered. The
// bars (retrieval.FitThreshold) are the confidence and the best answer's
// nearest-hit similarity from which on the answers are CalibrationTarget
// precise while at most 1-CalibrationTarget of the questions that must
// escalate are answered, with room for the noise of so few. When the workspace has an intent classifier,
// each question is ranked with one that has not learned it: the
// workspace's own classifier has learned them and would make them look
// easier than customers' questions are. calibrationFolds classifiers each
// miss a share of the FAQ questions, as many others each a share of the
// answer groups (trained with the default options). A workspace without
// FAQ entries is not calibrated (false), nor is any when the store keeps
// no calibrations.
func (e *Engine) Calibrate(ctx context.Context, workspaceID string) (retrieval.Calibration, bool, error) {
	if e.calibrations == nil {
		return retrieval.Calibration{}, false, nil
	}
	ws, err := e.calibrations.store.Workspace(ctx, workspaceID)
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
	}
	model := e.embedder.Model()
	probes, err := e.calibrations.store.CalibrationProbes(ctx, ws.ID, model, maxProbes)
	if err != nil || len(probes) == 0 {
		return retrieval.Calibration{}, false, err
	}
	oos := outOfScope(ws.Settings.Languages)
	texts := make([]string, len(oos))
	for i, q := range oos {
		texts[i] = q.text
	}
	vecs, err := e.embedder.Embed(ctx, texts)
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: embed out-of-scope questions: %w", err)
	}
	fold, groupFold := map[int64]int{}, map[string]int{}
	for i, p := range probes {
		fold[p.ChunkID] = i % calibrationFolds
		if _, ok := groupFold[p.Group]; !ok {
			groupFold[p.Group] = len(groupFold) % calibrationFolds
		}
	}
	examples, err := e.trainingExamples(ctx, ws.ID, model)
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
	}
	perGroup := map[string]int{}
	for _, x := range examples {
		perGroup[x.Group]++
	}
	own, err := heldOutClassifiers(examples, func(f int, x retrieval.Example) bool {
		g, ok := fold[x.ID]
		return ok && g == f && perGroup[x.Group] > minHeldOutClass
	})
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
	}
	off, err := heldOutClassifiers(examples, func(f int, x retrieval.Example) bool {
		g, ok := groupFold[x.Group]
		return ok && g == f
	})
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
	}
	var outcomes []retrieval.ProbeOutcome
	ask := func(p retrieval.Probe, clf *retrieval.Classifier, leftOut func(parley.Hit) bool) (retrieval.ProbeOutcome, error) {
		o, err := e.probe(ctx, ws, p, clf, leftOut)
		if err != nil {
			return o, fmt.Errorf("calibrate: %w", err)
		}
		return o, nil
	}
	for i, p := range probes {
		o, err := ask(p, fromFold(own, i), func(h parley.Hit) bool { return h.ChunkID == p.ChunkID })
		if err != nil {
			return retrieval.Calibration{}, false, err
		}
		outcomes = append(outcomes, o)
	}
	offSubject, err := e.offSubjectProbes(ctx, ws.ID, model, groupFold)
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
	}
	for _, p := range offSubject {
		o, err := ask(p.Probe, fromFold(off, groupFold[p.Group]), func(h parley.Hit) bool { return h.GroupKey == p.Group })
		if err != nil {
			return retrieval.Calibration{}, false, err
		}
		o.OffSubject, o.Correct, o.Weight = true, false, p.weight
		outcomes = append(outcomes, o)
	}
	for i, q := range oos {
		o, err := ask(retrieval.Probe{Text: q.text, Vector: vecs[i], Language: q.lang}, fromFold(own, i), nil)
		if err != nil {
			return retrieval.Calibration{}, false, err
		}
		o.OutOfScope = true
		outcomes = append(outcomes, o)
	}
	c := retrieval.FitThreshold(outcomes, CalibrationTarget)
	if err := e.calibrations.store.SaveCalibration(ctx, ws.ID, model, c); err != nil {
		return c, false, err
	}
	e.calibrations.forget(ws.ID + "/" + model)
	return c, true, nil
}

// weightedProbe is an off-subject question and its share of its group's
// one vote among the questions that must escalate.
type weightedProbe struct {
	retrieval.Probe
	weight float64
}

// offSubjectProbes returns up to offSubjectPerGroup questions of each
// group the FAQ questions name (groups, as keys), each weighing 1/n of
// the n asked of its group: every missing topic counts once, however
// many of its phrasings are asked.
func (e *Engine) offSubjectProbes(ctx context.Context, workspaceID, model string, groups map[string]int) ([]weightedProbe, error) {
	all, err := e.calibrations.store.CalibrationPhrasings(ctx, workspaceID, model, offSubjectPerGroup, offSubjectPerGroup*maxProbes)
	if err != nil {
		return nil, err
	}
	asked := map[string]int{}
	var out []weightedProbe
	for _, p := range all {
		if _, ok := groups[p.Group]; ok {
			asked[p.Group]++
			out = append(out, weightedProbe{Probe: p})
		}
	}
	for i := range out {
		out[i].weight = 1 / float64(asked[out[i].Group])
	}
	return out, nil
}

// fromFold returns the i-th fold's classifier (nil without any).
func fromFold(classifiers []*retrieval.Classifier, i int) *retrieval.Classifier {
	if classifiers == nil {
		return nil
	}
	return classifiers[i%len(classifiers)]
}

// trainingExamples returns the workspace's labelled examples, as its
// intent classifier learned them; none when it has no classifier (or the
// engine uses none).
func (e *Engine) trainingExamples(ctx context.Context, workspaceID, model string) ([]retrieval.Example, error) {
	if e.classifiers == nil {
		return nil, nil
	}
	// The store, not the engine's cache: the classifier may have been
	// trained a moment ago, by the same change of knowledge.
	if _, ok, err := e.groups.ClassifierVersion(ctx, workspaceID, model); err != nil || !ok {
		return nil, err
	}
	var examples []retrieval.Example
	err := e.calibrations.store.TrainingExamples(ctx, workspaceID, model, func(x retrieval.Example) error {
		examples = append(examples, x)
		return nil
	})
	return examples, err
}

// heldOutClassifiers returns calibrationFolds intent classifiers, the
// f-th trained on the examples without those leftOut(f, example) names;
// none without examples. Classes with a single example left are still
// learned, so that each fold knows the classes the workspace's classifier
// knows; a fold with fewer than two classes gets nil, and its probes are
// ranked by the vote alone.
func heldOutClassifiers(examples []retrieval.Example, leftOut func(fold int, x retrieval.Example) bool) ([]*retrieval.Classifier, error) {
	if len(examples) == 0 {
		return nil, nil
	}
	out := make([]*retrieval.Classifier, calibrationFolds)
	for f := range out {
		kept := slices.DeleteFunc(slices.Clone(examples), func(x retrieval.Example) bool { return leftOut(f, x) })
		clf, err := retrieval.TrainClassifier(kept, retrieval.TrainOptions{MinExamples: 1})
		if err != nil && !errors.Is(err, retrieval.ErrTooFewClasses) {
			return nil, fmt.Errorf("train held-out classifier: %w", err)
		}
		out[f] = clf
	}
	return out, nil
}

// probe asks one calibration question, leaving the hits leftOut names
// (nil: none) out of the search and ranking with clf (nil: by the vote
// alone), and returns the confidence of the answer the engine would give
// (0 when it would escalate whatever the bars), whether it leads to the
// probe's group (a probe without one has no right answer), and the best
// answer's nearest-hit similarity.
func (e *Engine) probe(ctx context.Context, ws parley.Workspace, p retrieval.Probe, clf *retrieval.Classifier, leftOut func(parley.Hit) bool) (retrieval.ProbeOutcome, error) {
	q := parley.SearchQuery{WorkspaceID: ws.ID, Model: e.embedder.Model(), Vector: p.Vector,
		Text: p.Text, Languages: SearchLanguages(p.Language, ws.Settings), Limit: SearchLimit}
	if leftOut != nil {
		// What is left out may be a whole answer group, the nearest hits
		// all of it: search wider, as if it were not in the knowledge.
		q.Limit = leftOutLimit
	}
	classify := func(context.Context, parley.SearchQuery) map[string]float64 { return clf.Prior(q.Vector) }
	r, err := e.search(ctx, q, &Timings{}, leftOut, classify)
	if err != nil {
		return retrieval.ProbeOutcome{}, err
	}
	top, _ := r.Top()
	out := retrieval.ProbeOutcome{Similarity: max(top.Similarity, 0)}
	s := ws.Settings
	s.AnswerThreshold = 0
	// Whether anything matches is what the calibration decides: the
	// floor is not applied to its own probes.
	if d := Decide(s, Bars{}, p.Text, nil, r, 0); !d.Answer {
		return out, nil
	}
	out.Confidence, out.Correct = r.Confidence, p.Group != "" && top.GroupKey == p.Group
	return out, nil
}

// leftOutLimit is how many hits each retriever returns for a calibration
// question asked with part of the knowledge left out; the search then
// keeps SearchLimit of what is left (see leaveOut).
const leftOutLimit = 10 * SearchLimit

// calibrationCache keeps the workspaces' calibrations in memory, reading a
// workspace's again at most every calibrationCheckInterval.
type calibrationCache struct {
	store   CalibrationStore
	mu      sync.Mutex
	entries map[string]cachedCalibration // workspace id + "/" + model
}

type cachedCalibration struct {
	calibrated
	checked time.Time
}

// calibrated is what a workspace's calibration sets: the threshold (0
// without one) and the bars Decide applies.
type calibrated struct {
	threshold float64
	bars      Bars
}

// calibrationCheckInterval is how often the engine looks for a refitted
// calibration of a workspace.
const calibrationCheckInterval = 5 * time.Second

// calibrated returns the workspace's calibrated threshold (0 when it has
// none or it cannot be read: logged) and bars for the engine's embedder;
// the floor is DefaultMinSimilarity without a fitted one.
func (e *Engine) calibrated(ctx context.Context, workspaceID string) calibrated {
	uncalibrated := calibrated{bars: Bars{Floor: DefaultMinSimilarity}}
	cc := e.calibrations
	if cc == nil {
		return uncalibrated
	}
	key := workspaceID + "/" + e.embedder.Model()
	cc.mu.Lock()
	c, ok := cc.entries[key]
	cc.mu.Unlock()
	if ok && time.Since(c.checked) < calibrationCheckInterval {
		return c.calibrated
	}
	cal, found, err := cc.store.Calibration(ctx, workspaceID, e.embedder.Model())
	if err != nil {
		e.log.WarnContext(ctx, "calibration unavailable: answering at the workspace's threshold", "workspace_id", workspaceID, "err", err.Error())
		return uncalibrated
	}
	c = cachedCalibration{calibrated: uncalibrated, checked: time.Now()}
	if found {
		c.threshold, c.bars.Similarity = cal.Threshold, cal.AnswerSimilarity
		if cal.MinSimilarity > 0 {
			c.bars.Floor = cal.MinSimilarity
		}
	}
	cc.mu.Lock()
	cc.entries[key] = c
	cc.mu.Unlock()
	return c.calibrated
}

func (cc *calibrationCache) forget(key string) {
	cc.mu.Lock()
	delete(cc.entries, key)
	cc.mu.Unlock()
}

type oosQuestion struct{ lang, text string }

// outOfScopeQuestions are questions no business's support knowledge should
// answer, per language: the negatives of a calibration.
var outOfScopeQuestions = map[string][]string{
	"en": {
		"What's the weather going to be like tomorrow?", "Can you tell me a joke?", "Who won the football match last night?",
		"How do I cook spaghetti carbonara?", "What is the capital of Australia?", "Write me a poem about the sea",
		"Can you help me with my maths homework?", "What time is it in Tokyo?", "Is it a good idea to buy bitcoin now?",
		"How do I change a flat tyre on my car?", "Recommend me a good film for tonight", "What's the meaning of life?",
		"How tall is Mount Everest?", "Can you book me a table at a restaurant?", "Where can I learn to play guitar?",
		"What should I name my dog?", "How do I file my tax return?", "Translate 'good morning' into Japanese",
		"Are you hiring at the moment?", "Which phone should I buy this year?",
	},
	"de": {
		"Wie wird das Wetter morgen?", "Erzähl mir einen Witz", "Wer hat gestern das Fußballspiel gewonnen?",
		"Wie koche ich Spaghetti Carbonara?", "Was ist die Hauptstadt von Australien?", "Kannst du mir bei den Mathe-Hausaufgaben helfen?",
		"Welchen Film soll ich heute Abend schauen?", "Wie mache ich meine Steuererklärung?",
	},
	"fr": {
		"Quel temps fera-t-il demain ?", "Raconte-moi une blague", "Qui a gagné le match de foot hier soir ?",
		"Comment cuisiner des spaghetti carbonara ?", "Quelle est la capitale de l'Australie ?", "Quel film regarder ce soir ?",
	},
	"es": {
		"¿Qué tiempo hará mañana?", "Cuéntame un chiste", "¿Quién ganó el partido de fútbol anoche?",
		"¿Cómo se cocina una paella?", "¿Cuál es la capital de Australia?", "¿Qué película puedo ver esta noche?",
		"¿Cómo hago la declaración de la renta?",
	},
	"it": {"Che tempo farà domani?", "Raccontami una barzelletta", "Come si cucina la carbonara?", "Qual è la capitale dell'Australia?"},
	"nl": {"Wat voor weer wordt het morgen?", "Vertel me een grap", "Hoe kook ik spaghetti carbonara?", "Wat is de hoofdstad van Australië?"},
	"pt": {"Como vai estar o tempo amanhã?", "Conta-me uma piada", "Como se cozinha bacalhau?", "Qual é a capital da Austrália?"},
}

// outOfScope returns the out-of-scope questions in English and the
// workspace's languages.
func outOfScope(languages []string) []oosQuestion {
	var out []oosQuestion
	seen := map[string]bool{}
	for _, lang := range append([]string{"en"}, languages...) {
		if seen[lang] {
			continue
		}
		seen[lang] = true
		for _, q := range outOfScopeQuestions[lang] {
			out = append(out, oosQuestion{lang: lang, text: q})
		}
	}
	return out
}
