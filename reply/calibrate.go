package reply

import (
	"context"
	"fmt"
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
	SaveCalibration(ctx context.Context, workspaceID, model string, c retrieval.Calibration) error
	// Calibration returns the stored calibration, or false when there is
	// none.
	Calibration(ctx context.Context, workspaceID, model string) (retrieval.Calibration, bool, error)
}

// Calibration settings.
const (
	// CalibrationTarget is the precision a workspace's threshold is
	// fitted to reach on its probes.
	CalibrationTarget = 0.95
	// maxProbes is how many of a workspace's questions are asked.
	maxProbes = 150
)

// Calibrate fits the workspace's answer threshold for the engine's
// embedder and stores it: each of its FAQ questions (up to maxProbes) is
// asked with its own chunk left out, so it can only be answered from the
// entry's answer text or from other phrasings, and generic out-of-scope
// questions in the workspace's languages must not be answered. The
// threshold is the lowest confidence from which on these answers are
// CalibrationTarget precise. A workspace without FAQ entries is not
// calibrated (false), nor is any when the store keeps no calibrations.
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
	for i, q := range oos {
		probes = append(probes, retrieval.Probe{Text: q.text, Vector: vecs[i], Language: q.lang})
	}
	var outcomes []retrieval.ProbeOutcome
	for _, p := range probes {
		o, err := e.probe(ctx, ws, p)
		if err != nil {
			return retrieval.Calibration{}, false, fmt.Errorf("calibrate: %w", err)
		}
		outcomes = append(outcomes, o)
	}
	c := retrieval.FitThreshold(outcomes, len(probes)-len(oos), CalibrationTarget)
	if err := e.calibrations.store.SaveCalibration(ctx, ws.ID, model, c); err != nil {
		return c, false, err
	}
	e.calibrations.forget(ws.ID + "/" + model)
	return c, true, nil
}

// probe asks one calibration question, leaving its own chunk out of the
// search, and returns the confidence of the answer the engine would give
// (0 when it would escalate whatever the threshold) and whether it leads
// to the probe's group (an out-of-scope question has none).
func (e *Engine) probe(ctx context.Context, ws parley.Workspace, p retrieval.Probe) (retrieval.ProbeOutcome, error) {
	q := parley.SearchQuery{WorkspaceID: ws.ID, Model: e.embedder.Model(), Vector: p.Vector,
		Text: p.Text, Languages: SearchLanguages(p.Language, ws.Settings), Limit: SearchLimit}
	r, err := e.search(ctx, q, &Timings{}, p.ChunkID)
	if err != nil {
		return retrieval.ProbeOutcome{}, err
	}
	s := ws.Settings
	s.AnswerThreshold = 0
	if d := Decide(s, p.Text, nil, r, 0); !d.Answer {
		return retrieval.ProbeOutcome{}, nil
	}
	top, _ := r.Top()
	return retrieval.ProbeOutcome{Confidence: r.Confidence, Correct: p.Group != "" && top.GroupKey == p.Group}, nil
}

// calibrationCache keeps the workspaces' calibrations in memory, reading a
// workspace's again at most every calibrationCheckInterval.
type calibrationCache struct {
	store   CalibrationStore
	mu      sync.Mutex
	entries map[string]cachedCalibration // workspace id + "/" + model
}

type cachedCalibration struct {
	threshold float64 // 0 without a calibration
	checked   time.Time
}

// calibrationCheckInterval is how often the engine looks for a refitted
// calibration of a workspace.
const calibrationCheckInterval = 5 * time.Second

// threshold returns the workspace's calibrated threshold for model, or 0
// when it has none or it cannot be read (logged).
func (e *Engine) calibratedThreshold(ctx context.Context, workspaceID string) float64 {
	cc := e.calibrations
	if cc == nil {
		return 0
	}
	key := workspaceID + "/" + e.embedder.Model()
	cc.mu.Lock()
	c, ok := cc.entries[key]
	cc.mu.Unlock()
	if ok && time.Since(c.checked) < calibrationCheckInterval {
		return c.threshold
	}
	cal, found, err := cc.store.Calibration(ctx, workspaceID, e.embedder.Model())
	if err != nil {
		e.log.WarnContext(ctx, "calibration unavailable: answering at the workspace's threshold", "workspace_id", workspaceID, "err", err.Error())
		return 0
	}
	c = cachedCalibration{checked: time.Now()}
	if found {
		c.threshold = cal.Threshold
	}
	cc.mu.Lock()
	cc.entries[key] = c
	cc.mu.Unlock()
	return c.threshold
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
