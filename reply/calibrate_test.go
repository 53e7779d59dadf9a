package reply_test

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// junkEmbedder knows nothing: each text gets an arbitrary vector of
// positive components, so every two texts look alike (cosine about 0.75),
// as with a misconfigured or unsuitable embedding endpoint.
type junkEmbedder struct{}

func (junkEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		h := fnv.New64a()
		h.Write([]byte(t))
		rng := rand.New(rand.NewPCG(h.Sum64(), 1))
		v := make([]float32, 64)
		var norm float64
		for j := range v {
			v[j] = rng.Float32()
			norm += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(norm))
		}
		out[i] = v
	}
	return out, nil
}
func (junkEmbedder) Model() string   { return "junk-v1" }
func (junkEmbedder) Dimensions() int { return 64 }

// With an embedder that cannot tell answers apart, the confidence scale
// means nothing; the workspace's calibration finds that out from its own
// knowledge and keeps the bot's answers precise (or stops it answering),
// whatever the threshold setting.
func TestCalibrationGuardsAgainstAUselessEmbedder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	ingestFileWith(t, db, ws.ID, sampleFAQ, junkEmbedder{})
	// A low threshold, as an admin might set to answer more.
	s := ws.Settings
	s.AnswerThreshold = 0.1
	ws, err := db.UpdateSettings(ctx, ws.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	engine := reply.New(db, junkEmbedder{}, reply.Options{Calibrations: db})
	suite, err := evals.LoadSuite("../evals/suites/sample/suite.json")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := suite.LoadCases()
	if err != nil {
		t.Fatal(err)
	}
	// precision asks the suite's single questions and returns how many
	// were answered and how many of those rightly.
	precision := func() (answered, right int) {
		for _, c := range cases {
			if len(c.Messages) > 0 {
				continue
			}
			res, err := engine.Answer(ctx, reply.Request{Workspace: ws, Text: c.Query})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != reply.StatusAnswered {
				continue
			}
			answered++
			if top, _ := res.Ranking.Top(); !c.Escalate && top.Intent == c.Intent {
				right++
			}
		}
		return answered, right
	}
	before, rightBefore := precision()
	cal, ok, err := engine.Calibrate(ctx, ws.ID)
	if err != nil || !ok {
		t.Fatalf("calibrate: %v (fitted %v)", err, ok)
	}
	after, rightAfter := precision()
	t.Logf("threshold 0.1: %d answered, %d right; calibrated (threshold %.3f): %d answered, %d right",
		before, rightBefore, cal.Threshold, after, rightAfter)
	if before == 0 || float64(rightBefore)/float64(before) >= 0.95 {
		t.Fatalf("uncalibrated, %d of %d answers were right: the junk embedder tests nothing", rightBefore, before)
	}
	if after > 0 && float64(rightAfter)/float64(after) < 0.9 {
		t.Errorf("calibrated: %d of %d answers right, want at least 90%%", rightAfter, after)
	}
	stored, found, err := db.Calibration(ctx, ws.ID, "junk-v1")
	if err != nil || !found || stored.Threshold != cal.Threshold || stored.Positives != cal.Positives {
		t.Fatalf("stored calibration %+v (found %v, err %v), want %+v", stored, found, err, cal)
	}
	if _, found, _ := db.Calibration(ctx, ws.ID, retrieval.LocalModel); found {
		t.Error("a calibration of another embedder was stored")
	}
}

// The calibration also asks the workspace's questions with their whole
// answer group left out, as questions on its subject that its knowledge
// does not cover (the FAQ question and example phrasings of each group,
// up to six), and keeps at least 95% of them and of the generic
// out-of-scope questions from being answered; the bars it fits are stored
// and read back.
func TestCalibrationAsksOffSubjectQuestions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	ws := pgtest.Workspace(t)
	ingestFile(t, db, ws.ID, sampleFAQ)
	ingestFile(t, db, ws.ID, "../evals/suites/sample/knowledge/examples.csv")
	engine := reply.New(db, retrieval.NewLocal(), reply.Options{Calibrations: db})
	cal, ok, err := engine.Calibrate(ctx, ws.ID)
	if err != nil || !ok {
		t.Fatalf("calibrate: %v (fitted %v)", err, ok)
	}
	t.Logf("%+v", cal)
	if cal.Positives < 40 || cal.OffSubject < 3*cal.Positives || cal.OffSubject > 6*cal.Positives || cal.Negatives < 20 {
		t.Fatalf("asked %d own, %d off-subject and %d out-of-scope questions, want the FAQ's, 3-6 phrasings of each of its groups and 20 generic ones",
			cal.Positives, cal.OffSubject, cal.Negatives)
	}
	if cal.Threshold > 1 || cal.Precision < reply.CalibrationTarget || cal.EscalationRecall < reply.CalibrationTarget {
		t.Errorf("fitted %+v, want bars at precision and escalation recall %.2f", cal, reply.CalibrationTarget)
	}
	stored, found, err := db.Calibration(ctx, ws.ID, retrieval.LocalModel)
	if err != nil || !found {
		t.Fatalf("stored calibration: found %v, err %v", found, err)
	}
	if stored.AnswerSimilarity != cal.AnswerSimilarity || stored.OffSubject != cal.OffSubject || stored.EscalationRecall != cal.EscalationRecall {
		t.Errorf("stored %+v, want %+v", stored, cal)
	}
}
