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
//
// A chart is not scaled to the page's width (no viewBox): it is as wide as
// its column and chartH pixels high, horizontal positions are percentages
// of its width and vertical ones pixels. So its text keeps its size on a
// phone (a 640-wide drawing scaled into 300 pixels had 6 px labels). The
// gridlines' values are in a column of their own at the left; every other
// time label is "minor", hidden on narrow screens (console.css).

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
	chartH            = 240 // pixels
	axisW             = 44  // pixels, the column of the gridlines' values
	padTop, padBottom = 20, 28
	plotH             = chartH - padTop - padBottom
	barRowH, barThick = 40, 12
	barValueRoom      = 85.0 // percent of the width the longest bar takes, room for its value
)

// openChart writes the figure's caption and opens its SVG, h pixels high.
// With value (the value of gridline i: 0 the baseline, 4 the top) it draws
// the gridlines, and their values in a column before the SVG.
func openChart(b *strings.Builder, id, title string, h int, value func(i int) string) {
	fmt.Fprintf(b, `<figure class="chart" id="%s"><figcaption id="%s-title">%s</figcaption><div class="plot">`, esc(id), esc(id), esc(title))
	if value == nil {
		fmt.Fprintf(b, `<svg height="%d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`, h, esc(id))
		return
	}
	fmt.Fprintf(b, `<svg class="y-axis" width="%d" height="%d" aria-hidden="true">`, axisW, h)
	for i := 0; i <= 4; i++ {
		fmt.Fprintf(b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, axisW-6, gridY(i)+4, esc(value(i)))
	}
	fmt.Fprintf(b, `</svg><svg height="%d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`, h, esc(id))
	for i := 0; i <= 4; i++ {
		fmt.Fprintf(b, `<line class="grid" x1="0" x2="100%%" y1="%d" y2="%d"/>`, gridY(i), gridY(i))
	}
}

// closeChart closes what openChart opened but the figure.
func closeChart(b *strings.Builder) { b.WriteString(`</svg></div>`) }

// gridY is the height of gridline i (0 the baseline, 4 the top) in pixels.
func gridY(i int) int { return padTop + plotH*(4-i)/4 }

// xLabel writes a time label under the plot at x percent of the width;
// a minor one is hidden on narrow screens.
func xLabel(b *strings.Builder, x float64, anchor, text string, minor bool) {
	class := "axis"
	if minor {
		class += " minor"
	}
	fmt.Fprintf(b, `<text class="%s" x="%.2f%%" y="%d" text-anchor="%s">%s</text>`, class, x, chartH-8, anchor, esc(text))
}

// labelled reports whether the i-th of a chart's points has a time label when
// every labelled point is every-th, and whether that label is minor.
func labelled(i, every int) (shown, minor bool) {
	return i%every == 0, (i/every)%2 == 1
}

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
	openChart(&b, c.ID, title, chartH, func(i int) string { return fmt.Sprint(top * int64(i) / 4) })
	if n > 0 {
		slot := 100 / float64(n)
		barW := slot * 0.7
		every := max(1, (n+7)/8) // at most 8 date labels, 4 on a narrow screen
		for i, start := range c.Starts {
			x := slot*float64(i) + (slot-barW)/2
			base := float64(padTop + plotH)
			for _, s := range c.Series {
				h := plotH * float64(s.Values[i]) / float64(top)
				if h > 0 {
					fmt.Fprintf(&b, `<rect class="%s" x="%.2f%%" y="%.1f" width="%.2f%%" height="%.1f"><title>%s %s: %d</title></rect>`,
						esc(s.Class), x, base-h, barW, h, esc(start.Format(dateFormat)), esc(p.T(s.Label)), s.Values[i])
				}
				base -= h
			}
			if shown, minor := labelled(i, every); shown {
				xLabel(&b, x+barW/2, "middle", start.Format(dateFormat), minor)
			}
		}
	}
	closeChart(&b)
	b.WriteString(`<ul class="legend">`)
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
	// Each bar has its label above it, so labels of any length fit a phone.
	openChart(&b, c.ID, p.T(c.Title), max(barRowH, barRowH*len(c.Bars)), nil)
	for i, bar := range c.Bars {
		y := barRowH * i
		bw := barValueRoom * float64(bar.Value) / float64(top)
		fmt.Fprintf(&b, `<text class="label" x="0" y="%d">%s</text>`, y+14, esc(label(bar.Label)))
		fmt.Fprintf(&b, `<rect class="bar" x="0" y="%d" width="%.2f%%" height="%d"><title>%s: %d</title></rect>`, y+20, bw, barThick, esc(label(bar.Label)), bar.Value)
		fmt.Fprintf(&b, `<text class="value" x="%.2f%%" dx="6" y="%d">%d</text>`, bw, y+20+barThick-1, bar.Value)
	}
	closeChart(&b)
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
	// x is a point's position in percent of the width; y a value's height
	// in the plot, in percent from its top.
	x := func(i int) float64 {
		if n == 1 {
			return 50
		}
		return 1.5 + 97*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return 100 * (1 - v) }
	openChart(&b, c.ID, p.T(c.Title), chartH, func(i int) string { return fmt.Sprintf("%d%%", 25*i) })
	every := max(1, (n+5)/6) // at most 6 time labels, 3 on a narrow screen
	for i, at := range c.Points {
		shown, minor := labelled(i, every)
		if !shown {
			continue
		}
		anchor := "middle" // the ends' labels stay inside the chart
		switch {
		case n > 1 && i == 0:
			anchor = "start"
		case n > 1 && i == n-1:
			anchor = "end"
			minor = false
		}
		xLabel(&b, x(i), anchor, at.Format(format), minor)
	}
	// The lines are drawn in a plot stretched to the chart's width
	// (percent by percent); their strokes keep their width.
	fmt.Fprintf(&b, `<svg x="0" y="%d" width="100%%" height="%d" viewBox="0 0 100 100" preserveAspectRatio="none" overflow="visible">`, padTop, plotH)
	for _, l := range c.Lines {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="%s" vector-effect="non-scaling-stroke" points="%s"/>`, esc(l.Class), strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range l.Values {
			if v == nil {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.2f,%.2f", x(i), y(*v)))
		}
		flush()
	}
	b.WriteString(`</svg>`)
	for _, l := range c.Lines {
		for i, v := range l.Values {
			if v != nil {
				fmt.Fprintf(&b, `<circle class="%s" cx="%.2f%%" cy="%.1f" r="3"><title>%s %s: %s</title></circle>`,
					esc(l.Class), x(i), padTop+plotH*y(*v)/100, esc(c.Points[i].Format(format)), esc(p.T(l.Label)), percent(v))
			}
		}
	}
	closeChart(&b)
	b.WriteString(`<ul class="legend">`)
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
