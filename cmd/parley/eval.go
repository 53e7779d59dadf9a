package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/evals"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

const evalSynopsis = `eval SUITE [flags]

Loads the suite's knowledge into its own workspace (eval-NAME; unchanged
knowledge is not re-embedded), trains the workspace's intent classifier
(skipped when the labelled knowledge is unchanged), runs every case through
the reply engine and reports retrieval, decisions, calibration and latency.
Exits 1 when a gate of the suite fails.

Examples:
  parley eval evals/suites/sample/suite.json
  parley eval suite.json --out eval-out --target-precision 0.9
  parley eval suite.json --no-classifier              # the kNN vote alone, to compare
  parley eval suite.json --calibrate --apply demo   # write the calibrated threshold to workspace demo
  parley eval suite.json --record demo              # keep the run for workspace demo's console (Analytics)`

func runEval(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "eval", evalSynopsis)
	out := fs.String("out", "eval-out", "`folder` for report.json, report.md and report.html")
	target := fs.Float64("target-precision", 0.95, "precision the calibrated threshold must reach")
	asJSON := fs.Bool("json", false, "print report.json to stdout instead of the summary")
	calibrate := fs.Bool("calibrate", false, "with --apply: write the calibrated threshold to a workspace")
	apply := fs.String("apply", "", "`workspace` whose answer_threshold --calibrate sets")
	workspace := fs.String("workspace", "", "workspace `name` to load the suite into (default eval-SUITE)")
	noClassifier := fs.Bool("no-classifier", false, "rank by the kNN vote alone: neither train nor use the intent classifier")
	record := fs.String("record", "", "also keep the run's figures and worst cases with `workspace`, for its console's Analytics page")
	allowUnknown := fs.Bool("allow-unknown-labels", false, "run even when cases expect intents or source ids the knowledge does not have (listed in the report)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("eval takes one SUITE manifest")
	}
	if *target <= 0 || *target > 1 {
		return usageError("--target-precision must be in (0, 1]")
	}
	if *calibrate != (*apply != "") {
		return usageError("--calibrate and --apply WORKSPACE go together")
	}
	suite, err := evals.LoadSuite(fs.Arg(0))
	if err != nil {
		return err
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	runner, _, embedder, err := newSuiteRunner(a, db, suite, a.log, !*noClassifier)
	if err != nil {
		return err
	}
	bar := newProgress(a, "running cases")
	rep, err := runner.Run(ctx, suite, evals.Options{Workspace: *workspace, TargetPrecision: *target, Progress: bar.update, AllowUnknownLabels: *allowUnknown})
	bar.finish()
	if err != nil {
		return fmt.Errorf("eval %s: %w", suite.Name, err)
	}
	rep.Version, rep.Embedder = version, embedder.Model()
	if err := evals.WriteFiles(*out, rep); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		evals.Summary(a.stdout, rep)
		fmt.Fprintf(a.stdout, "\nreports: %s/report.html, report.md, report.json\n", *out)
	}
	if *calibrate {
		if err := applyThreshold(ctx, a, db, *apply, rep); err != nil {
			return err
		}
	}
	if *record != "" {
		if err := recordRun(ctx, a, db, *record, rep); err != nil {
			return err
		}
	}
	if !rep.Passed() {
		return fmt.Errorf("suite %s failed its gates", suite.Name)
	}
	return nil
}

// applyThreshold writes the calibrated threshold to a workspace's settings.
func applyThreshold(ctx context.Context, a *app, db *postgres.DB, name string, rep *evals.Report) error {
	c := rep.Calibration
	if c.Threshold < 0 {
		return fmt.Errorf("no threshold reaches precision %.3f on suite %s: workspace %s left unchanged", c.TargetPrecision, rep.Suite, name)
	}
	ws, err := db.WorkspaceByName(ctx, name)
	if err != nil {
		return err
	}
	old := ws.Settings.AnswerThreshold
	ws.Settings.AnswerThreshold = c.Threshold
	if _, err := db.UpdateSettings(ctx, ws.ID, ws.Settings); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "workspace %s: answer_threshold %.3f -> %.3f (precision %.3f, coverage %.3f on suite %s)\n",
		name, old, c.Threshold, c.Precision, c.Coverage, rep.Suite)
	return nil
}

// recordRun keeps the run with a workspace's eval runs.
func recordRun(ctx context.Context, a *app, db *postgres.DB, name string, rep *evals.Report) error {
	ws, err := db.WorkspaceByName(ctx, name)
	if err != nil {
		return err
	}
	run, err := rep.Record()
	if err != nil {
		return err
	}
	if run, err = db.CreateEvalRun(ctx, ws.ID, run); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "recorded as eval run %d of workspace %s (console: /app/analytics/evals/%d)\n", run.ID, name, run.ID)
	return nil
}

// newSuiteRunner builds what eval and bench share: the reply engine over db
// (logging to engineLog), generating answers when a chat model is
// configured, with the language models of suite's languages loaded, as
// serve does, and a runner that loads a suite's knowledge and, with
// classifier, trains the workspace's intent classifier as ingest does.
func newSuiteRunner(a *app, db *postgres.DB, suite *evals.Suite, engineLog *slog.Logger, classifier bool) (*evals.Runner, *reply.Engine, retrieval.Embedder, error) {
	embedder, err := newEmbedder(a.cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	pipe, tok, err := newPipeline(db, embedder)
	if err != nil {
		return nil, nil, nil, err
	}
	_, grounder, err := newDrafter(a.cfg, engineLog, tok, prometheus.NewRegistry())
	if err != nil {
		return nil, nil, nil, err
	}
	// Loaded now, so that no case's latency includes them.
	detector := reply.NewLanguageDetector()
	detector.Load(suite.Languages())
	opts := reply.Options{Language: detector, Calibrations: db, Grounder: grounder, Logger: engineLog}
	if classifier {
		opts.Classifiers = db
	}
	engine := reply.New(db, embedder, opts)
	return evals.NewRunner(db, engine, newKnowledge(a, db, pipe, embedder, classifier), a.log), engine, embedder, nil
}
