package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Charts drawn on the server as inline SVG: no chart library, no script.
// Their data comes from the handlers; their words from the page's
// catalogue (titles and legends are message keys). Every chart also has
// its figures as a table, for screen readers and for copying.

// TimeChart is a bar chart with one bar per day (or week or month),
// stacked from its series, bottom up.
type TimeChart struct {
	ID     string // unique on the page
	Title  string // message key
	Starts []time.Time
	Series []Series
}

// Series is one layer of a TimeChart.
type Series struct {
	Label  string // message key
	Class  string // CSS class of its bars (its colour)
	Values []int64
}

// BarList is a horizontal bar chart of named counts.
type BarList struct {
	ID    string
	Title string // message key
	Bars  []Bar
}

// Bar is one bar of a BarList: Label is a message key (shown as is when
// the catalogue lacks it).
type Bar struct {
	Label string
	Value int64
}

const (
	chartW, chartH               = 640, 240
	padLeft, padRight, padBottom = 44, 8, 28
	padTop                       = 8
)

// niceTop is the top of an axis with four gridlines for values up to v:
// four times a step of 1, 2 or 5 times a power of ten.
func niceTop(v int64) int64 { return 4 * niceMax((v+3)/4) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v int64) int64 {
	if v <= 1 {
		return 1
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(v)))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// TimeChart draws c as an SVG figure with its table.
func (p ConsolePage) TimeChart(c TimeChart) template.HTML {
	var b strings.Builder
	title := p.T(c.Title)
	dateFormat := p.T("chart.date_format")
	n := len(c.Starts)
	var top int64
	totals := make([]int64, n)
	for i := range n {
		for _, s := range c.Series {
			totals[i] += s.Values[i]
		}
		top = max(top, totals[i])
	}
	top = niceTop(top)
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBottom)
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><figcaption id="%s-title">%s</figcaption>`, esc(c.ID), esc(c.ID), esc(title))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, esc(c.ID))
	for i := 0; i <= 4; i++ {
		y := float64(padTop) + plotH*float64(4-i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padLeft, chartW-padRight, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, padLeft-6, y+4, top*int64(i)/4)
	}
	if n > 0 {
		slot := plotW / float64(n)
		barW := math.Max(1, slot*0.7)
		every := max(1, (n+7)/8) // at most 8 date labels
		for i, start := range c.Starts {
			x := float64(padLeft) + slot*float64(i) + (slot-barW)/2
			base := float64(padTop) + plotH
			for _, s := range c.Series {
				h := plotH * float64(s.Values[i]) / float64(top)
				if h > 0 {
					fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %d</title></rect>`,
						esc(s.Class), x, base-h, barW, h, esc(start.Format(dateFormat)), esc(p.T(s.Label)), s.Values[i])
				}
				base -= h
			}
			if i%every == 0 {
				fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, chartH-8, esc(start.Format(dateFormat)))
			}
		}
	}
	b.WriteString(`</svg><ul class="legend">`)
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<li><svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><rect class="%s" width="10" height="10"/></svg> %s</li>`, esc(s.Class), esc(p.T(s.Label)))
	}
	b.WriteString(`</ul>`)
	fmt.Fprintf(&b, `<details><summary>%s</summary><div class="table-wrap"><table><thead><tr><th scope="col">%s</th>`, esc(p.T("chart.table")), esc(p.T("chart.date")))
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<th scope="col" class="num">%s</th>`, esc(p.T(s.Label)))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, start := range c.Starts {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(start.Format(dateFormat)))
		for _, s := range c.Series {
			fmt.Fprintf(&b, `<td class="num">%d</td>`, s.Values[i])
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}

// BarList draws c as an SVG figure with its table.
func (p ConsolePage) BarList(c BarList) template.HTML {
	var b strings.Builder
	label := func(key string) string {
		if v := p.T(key); v != key {
			return v
		}
		_, raw, _ := strings.Cut(key, ".")
		return raw
	}
	var top int64
	for _, bar := range c.Bars {
		top = max(top, bar.Value)
	}
	top = niceMax(top)
	const rowH, labelW, w = 28, 200, chartW
	h := max(rowH, rowH*len(c.Bars))
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><figcaption id="%s-title">%s</figcaption>`, esc(c.ID), esc(c.ID), esc(p.T(c.Title)))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`, w, h, esc(c.ID))
	for i, bar := range c.Bars {
		y := rowH * i
		bw := float64(w-labelW-60) * float64(bar.Value) / float64(top)
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+rowH/2+5, esc(label(bar.Label)))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %d</title></rect>`, labelW, y+4, bw, rowH-8, esc(label(bar.Label)), bar.Value)
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%d</text>`, float64(labelW)+bw+6, y+rowH/2+5, bar.Value)
	}
	b.WriteString(`</svg>`)
	fmt.Fprintf(&b, `<details><summary>%s</summary><table><tbody>`, esc(p.T("chart.table")))
	for _, bar := range c.Bars {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th><td class="num">%d</td></tr>`, esc(label(bar.Label)), bar.Value)
	}
	b.WriteString(`</tbody></table></details></figure>`)
	return template.HTML(b.String())
}

// LineChart is a chart of shares (0 to 1, drawn as percentages) at points
// in order, one line per series: an eval suite's figures run by run.
// Points are spaced evenly, not by time; a nil value is a gap.
type LineChart struct {
	ID     string // unique on the page
	Title  string // message key
	Points []time.Time
	Lines  []Line
}

// Line is one series of a LineChart.
type Line struct {
	Label  string // message key
	Class  string // CSS class of its line and marks (its colour)
	Values []*float64
}

// LineChart draws c as an SVG figure with its table.
func (p ConsolePage) LineChart(c LineChart) template.HTML {
	var b strings.Builder
	format := p.T("chart.time_format")
	n := len(c.Points)
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBottom)
	x := func(i int) float64 {
		if n == 1 {
			return float64(padLeft) + plotW/2
		}
		return float64(padLeft) + 8 + (plotW-16)*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return float64(padTop) + plotH*(1-v) }
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><figcaption id="%s-title">%s</figcaption>`, esc(c.ID), esc(c.ID), esc(p.T(c.Title)))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, esc(c.ID))
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padLeft, chartW-padRight, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d%%</text>`, padLeft-6, y(v)+4, 25*i)
	}
	every := max(1, (n+5)/6) // at most 6 time labels
	for i, at := range c.Points {
		if i%every != 0 {
			continue
		}
		anchor := "middle" // the ends' labels stay inside the chart
		switch {
		case n > 1 && i == 0:
			anchor = "start"
		case n > 1 && i == n-1:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(i), chartH-8, anchor, esc(at.Format(format)))
	}
	for _, l := range c.Lines {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, esc(l.Class), strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range l.Values {
			if v == nil {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(*v)))
		}
		flush()
		for i, v := range l.Values {
			if v != nil {
				fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="3"><title>%s %s: %s</title></circle>`,
					esc(l.Class), x(i), y(*v), esc(c.Points[i].Format(format)), esc(p.T(l.Label)), percent(v))
			}
		}
	}
	b.WriteString(`</svg><ul class="legend">`)
	for _, l := range c.Lines {
		fmt.Fprintf(&b, `<li><svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><rect class="%s" width="10" height="10"/></svg> %s</li>`, esc(l.Class), esc(p.T(l.Label)))
	}
	b.WriteString(`</ul>`)
	fmt.Fprintf(&b, `<details><summary>%s</summary><div class="table-wrap"><table><thead><tr><th scope="col">%s</th>`, esc(p.T("chart.table")), esc(p.T("chart.time")))
	for _, l := range c.Lines {
		fmt.Fprintf(&b, `<th scope="col" class="num">%s</th>`, esc(p.T(l.Label)))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, at := range c.Points {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(at.Format(format)))
		for _, l := range c.Lines {
			fmt.Fprintf(&b, `<td class="num">%s</td>`, percent(l.Values[i]))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}

// percent shows a share as a percentage with one decimal; nil as a dash.
func percent(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100**v)
}
