package evals

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	ttemplate "text/template"
)

//go:embed templates/*
var templates embed.FS

// WriteFiles writes report.json, report.md and report.html into dir.
func WriteFiles(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report folder: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report.json: %w", err)
	}
	if err := render(filepath.Join(dir, "report.md"), func(w io.Writer) error {
		t, err := ttemplate.New("report.md.tmpl").Funcs(funcs).ParseFS(templates, "templates/report.md.tmpl")
		if err != nil {
			return err
		}
		return t.Execute(w, r)
	}); err != nil {
		return err
	}
	return render(filepath.Join(dir, "report.html"), func(w io.Writer) error {
		t, err := template.New("report.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/report.html.tmpl")
		if err != nil {
			return err
		}
		return t.Execute(w, struct {
			*Report
			Chart template.HTML
		}{r, template.HTML(curveSVG(r.Calibration))})
	})
}

func render(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("render %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

var funcs = map[string]any{
	"pct":              func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"f3":               func(x float64) string { return fmt.Sprintf("%.3f", x) },
	"auroc":            formatAUROC,
	"best":             bestReached,
	"labelledOnlyNote": func() string { return labelledOnlyNote },
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
	"expected": expected,
	"top": func(o Outcome) string {
		var parts []string
		for _, c := range o.Top {
			parts = append(parts, fmt.Sprintf("%s (%.2f)", c.Label, c.Score))
		}
		return strings.Join(parts, ", ")
	},
	"cell": func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") },
}

// labelledOnlyNote says why a suite without answer texts answers nothing.
const labelledOnlyNote = "the knowledge has labelled example questions only, no answer texts, so every case escalates (no_match) and nothing is answered at the threshold; the calibration shows what answering would reach"

// bestReached describes the best precision on the curve, for a target no
// threshold reaches.
func bestReached(c Calibration) string {
	if c.Best == nil {
		return "no case was decided by a threshold"
	}
	return fmt.Sprintf("best precision %.3f at threshold %.3f (coverage %.3f)", c.Best.Precision, c.Best.Threshold, c.Best.Coverage)
}

func formatAUROC(a *float64) string {
	if a == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *a)
}

func expected(o Outcome) string {
	switch {
	case o.Case.Escalate && o.Case.Reason != "":
		return "escalate (" + o.Case.Reason + ")"
	case o.Case.Escalate:
		return "escalate"
	case o.Case.Intent != "":
		return o.Case.Intent
	}
	return strings.Join(o.Case.SourceIDs, ", ")
}

// curveSVG draws precision (y) against coverage (x) as an inline SVG, with
// the target precision as a dashed line and the calibrated point marked.
func curveSVG(c Calibration) string {
	const w, h, pad, left = 560.0, 320.0, 40.0, 60.0 // left leaves room for the y axis' label
	x := func(v float64) float64 { return left + v*(w-left-pad) }
	y := func(v float64) float64 { return h - pad - v*(h-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="precision against coverage">`, w, h, w, h)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#fafafa" stroke="#ccc"/>`, left, pad, w-left-pad, h-2*pad)
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%.0f%%</text>`, x(t), h-pad+16, 100*t)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%.0f%%</text>`, left-6, y(t)+4, 100*t)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle">coverage (answered and correct, share of in-scope cases)</text>`, x(0.5), h-6)
	fmt.Fprintf(&b, `<text x="12" y="%.1f" font-size="12" text-anchor="middle" transform="rotate(-90 12 %.1f)">precision of answers</text>`, h/2, h/2)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d33" stroke-dasharray="5 4"/>`, x(0), y(c.TargetPrecision), x(1), y(c.TargetPrecision))
	var pts []string
	for _, p := range c.Curve {
		// Before the first correct answer precision and coverage are both
		// 0: a point of the sweep, not of the curve.
		if len(pts) == 0 && p.Coverage == 0 {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Coverage), y(p.Precision)))
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#2463eb" stroke-width="2" points="%s"/>`, strings.Join(pts, " "))
	}
	if c.Reachable {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="#d33"><title>threshold %.3f: precision %.3f, coverage %.3f</title></circle>`,
			x(c.Coverage), y(c.Precision), c.Threshold, c.Precision, c.Coverage)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Summary writes the terminal summary.
func Summary(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "suite %s: %d cases (%d in scope, %d must escalate) in %s, workspace %s\n\n",
		r.Suite, r.Cases, r.InScope, r.MustEscal, r.Elapsed, r.Workspace)
	fmt.Fprintf(tw, "retrieval\thit@1 %.3f\thit@5 %.3f\tMRR %.3f\n", r.Retrieval.HitAt1, r.Retrieval.HitAt5, r.Retrieval.MRR)
	fmt.Fprintf(tw, "at threshold %.3f\tanswered %.1f%%\tprecision %.3f\tcoverage %.3f\n",
		r.Threshold, 100*r.Decisions.AnsweredShare, r.Decisions.Precision, r.Decisions.Coverage)
	fmt.Fprintf(tw, "escalation\trecall %.3f\tfalse escalations %d\treasons %v\n",
		r.Decisions.EscalationRecall, r.Decisions.FalseEscalations, r.Decisions.Reasons)
	if r.SmallTalkCases > 0 {
		fmt.Fprintf(tw, "small talk\t%.3f of %d recognised\n", r.Decisions.SmallTalk, r.SmallTalkCases)
	}
	if r.Calibration.Reachable {
		fmt.Fprintf(tw, "calibration\tthreshold %.3f reaches precision %.3f\tcoverage %.3f\tAUROC %s\n",
			r.Calibration.Threshold, r.Calibration.Precision, r.Calibration.Coverage, formatAUROC(r.Calibration.AUROC))
	} else {
		fmt.Fprintf(tw, "calibration\tprecision %.3f not reachable: %s\t\tAUROC %s\n",
			r.Calibration.TargetPrecision, bestReached(r.Calibration), formatAUROC(r.Calibration.AUROC))
	}
	if r.LabelledOnly {
		fmt.Fprintf(tw, "note\t%s\n", labelledOnlyNote)
	}
	if n := len(r.UnknownLabels); n > 0 {
		fmt.Fprintf(tw, "note\t%d expected answers are not in the knowledge (see the report)\n", n)
	}
	fmt.Fprintf(tw, "latency\tp50 %.1f ms\tp95 %.1f ms\tmax %.1f ms\n", r.Latency.P50, r.Latency.P95, r.Latency.Max)
	for _, g := range r.Gates {
		verdict := "pass"
		if !g.Passed {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "gate %s\t%s\t%.3f (min %.3f)\n", g.Name, verdict, g.Actual, g.Min)
	}
	tw.Flush()
}
