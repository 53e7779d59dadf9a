package ingest

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"
)

// Reading order of a PDF page. The reader gives positioned glyphs; they are
// gathered into lines (same baseline), lines into segments (runs of text
// without a wide gap), and, when a vertical gutter splits the page's
// segments into a left and a right column, each band of two-column text is
// read left column first. Segments side by side within one column are table
// cells, joined with " | ". A wider gap between lines starts a paragraph.

// glyph is one piece of text at a position (PDF points, y upwards).
type glyph struct {
	x, y, w, size float64
	s             string
}

// segment is a run of glyphs on one line without a wide gap.
type segment struct {
	x0, x1 float64
	text   string
}

// textLine is the segments on one baseline, left to right.
type textLine struct {
	y, size float64
	segs    []segment
}

// pageParagraphs returns the text of a page as paragraphs in reading order.
func pageParagraphs(p pdf.Page, fonts fontCache) []string {
	lines := groupLines(pageGlyphs(p, fonts))
	if len(lines) == 0 {
		return nil
	}
	width := pageWidth(p, lines)
	var out []string
	for _, block := range readingOrder(lines, width) {
		out = append(out, paragraphs(block)...)
	}
	return out
}

// pageWidth is the width of the page's media box (which a page may inherit
// from its parents), else the right edge of its text.
func pageWidth(p pdf.Page, lines []textLine) float64 {
	box := p.V.Key("MediaBox")
	for v, depth := p.V, 0; box.IsNull() && !v.IsNull() && depth < 32; v, depth = v.Key("Parent"), depth+1 {
		box = v.Key("MediaBox")
	}
	if box.Len() == 4 {
		if w := box.Index(2).Float64() - box.Index(0).Float64(); w > 0 {
			return w
		}
	}
	w := 0.0
	for _, l := range lines {
		w = math.Max(w, l.segs[len(l.segs)-1].x1)
	}
	return w
}

// groupLines gathers glyphs with the same baseline (within a third of the
// type size) into lines, top to bottom, and each line into segments.
func groupLines(glyphs []glyph) []textLine {
	sort.SliceStable(glyphs, func(i, j int) bool { return glyphs[i].y > glyphs[j].y })
	var lines []textLine
	var cur []glyph
	flush := func() {
		if l, ok := makeLine(cur); ok {
			lines = append(lines, l)
		}
		cur = cur[:0]
	}
	for _, g := range glyphs {
		if len(cur) > 0 && math.Abs(cur[0].y-g.y) > cur[0].size/3 {
			flush()
		}
		cur = append(cur, g)
	}
	flush()
	return lines
}

// makeLine orders the glyphs of one baseline left to right and cuts them
// into segments at gaps wider than the type size; a smaller gap without a
// space glyph becomes a space.
func makeLine(glyphs []glyph) (textLine, bool) {
	if len(glyphs) == 0 {
		return textLine{}, false
	}
	gs := slices.Clone(glyphs)
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].x < gs[j].x })
	line := textLine{y: gs[0].y}
	var b strings.Builder
	var seg segment
	end := func() {
		seg.text = collapseSpace(b.String())
		if seg.text != "" {
			line.segs = append(line.segs, seg)
		}
		b.Reset()
	}
	for i, g := range gs {
		line.size = math.Max(line.size, g.size)
		if i == 0 {
			seg = segment{x0: g.x}
		} else {
			prevEnd := gs[i-1].x + gs[i-1].w
			gap := g.x - prevEnd
			switch {
			case gap > 1.2*g.size:
				end()
				seg = segment{x0: g.x}
			case gap > 0.15*g.size && !strings.HasSuffix(b.String(), " ") && g.s != " ":
				b.WriteByte(' ')
			}
		}
		b.WriteString(g.s)
		if strings.TrimSpace(g.s) != "" {
			seg.x1 = g.x + g.w
		}
	}
	end()
	return line, len(line.segs) > 0
}

// readingOrder returns blocks of lines in reading order: with a gutter, a
// run of lines that do not cross it is read as its left column, then its
// right column; a line across the gutter (a heading, a wide paragraph, a
// table row) ends the run.
func readingOrder(lines []textLine, width float64) [][]textLine {
	gutter, ok := findGutter(lines, width)
	if !ok {
		return [][]textLine{lines}
	}
	var blocks [][]textLine
	var left, right []textLine
	wide := false // the last block holds lines across the gutter
	flush := func() {
		if len(left) > 0 {
			blocks = append(blocks, left)
		}
		if len(right) > 0 {
			blocks = append(blocks, right)
		}
		left, right = nil, nil
	}
	for _, l := range lines {
		ls, rs, crosses := splitAt(l, gutter)
		if crosses {
			flush()
			if n := len(blocks); n > 0 && wide {
				blocks[n-1] = append(blocks[n-1], l)
			} else {
				blocks = append(blocks, []textLine{l})
			}
			wide = true
			continue
		}
		wide = false
		if len(ls) > 0 {
			left = append(left, textLine{y: l.y, size: l.size, segs: ls})
		}
		if len(rs) > 0 {
			right = append(right, textLine{y: l.y, size: l.size, segs: rs})
		}
	}
	flush()
	return blocks
}

// splitAt splits a line at x. It crosses x when a segment straddles x, or
// when it has text on both sides and more than one segment on a side (a
// table row rather than two column lines).
func splitAt(l textLine, x float64) (left, right []segment, crosses bool) {
	for _, s := range l.segs {
		switch {
		case s.x1 <= x:
			left = append(left, s)
		case s.x0 >= x:
			right = append(right, s)
		default:
			return nil, nil, true
		}
	}
	if len(left) > 0 && len(right) > 0 && (len(left) > 1 || len(right) > 1) {
		return nil, nil, true
	}
	return left, right, false
}

// findGutter looks for a vertical line in the middle of the page with a
// line of words on each side of it on at least three lines, and crossed by
// at most a third of the lines: the gap between two columns. Of the
// positions that do best, it takes the middle one.
func findGutter(lines []textLine, width float64) (float64, bool) {
	var best []float64
	bestPairs := 0
	for x := width * 0.3; x <= width*0.7; x += 2 {
		pairs, cross := 0, 0
		for _, l := range lines {
			ls, rs, crosses := splitAt(l, x)
			switch {
			case crosses:
				cross++
			case len(ls) == 1 && len(rs) == 1 && len(strings.Fields(ls[0].text)) >= 3 && len(strings.Fields(rs[0].text)) >= 3:
				pairs++
			}
		}
		if pairs < 3 || cross*3 > len(lines) || pairs < bestPairs {
			continue
		}
		if pairs > bestPairs {
			best, bestPairs = nil, pairs
		}
		best = append(best, x)
	}
	if len(best) == 0 {
		return 0, false
	}
	return best[len(best)/2], true
}

// paragraphs joins the lines of one block into paragraphs: a vertical gap
// well above the block's usual line spacing, or a change of type size,
// starts a new one. A line of several segments (table cells) is a
// paragraph line of its own, cells joined with " | ".
func paragraphs(block []textLine) []string {
	spacing := usualSpacing(block)
	var out []string
	var cur []string
	end := func() {
		if p := strings.TrimSpace(joinLines(cur)); p != "" {
			out = append(out, p)
		}
		cur = nil
	}
	for i, l := range block {
		if i > 0 {
			prev := block[i-1]
			gap := prev.y - l.y
			// A block of one-line paragraphs has no closer lines to
			// measure: spacing is also at most 1.3 times the type size.
			if gap > 1.5*math.Min(spacing, 1.3*l.size) || math.Abs(prev.size-l.size) > 1 || gap < 0 {
				end()
			}
		}
		texts := make([]string, len(l.segs))
		for j, s := range l.segs {
			texts[j] = s.text
		}
		if len(texts) > 1 {
			cur = append(cur, "\n"+strings.Join(texts, " | ")+"\n")
			continue
		}
		cur = append(cur, texts[0])
	}
	end()
	return out
}

// joinLines joins the lines of a paragraph with spaces, mending words
// hyphenated across lines; table rows (marked with surrounding newlines)
// keep lines of their own.
func joinLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		s := b.String()
		switch {
		case s == "" || strings.HasSuffix(s, "\n") || strings.HasPrefix(l, "\n"):
		case strings.HasSuffix(s, "-") && len(s) > 1 && unicode.IsLower(rune(s[len(s)-2])) && startsLower(l):
			// "refund-" + "able" → "refundable"
			trimmed := strings.TrimSuffix(s, "-")
			b.Reset()
			b.WriteString(trimmed)
		default:
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	lines2 := strings.Split(b.String(), "\n")
	for i := range lines2 {
		lines2[i] = strings.TrimSpace(lines2[i])
	}
	return strings.Join(slices.DeleteFunc(lines2, func(s string) bool { return s == "" }), "\n")
}

func startsLower(s string) bool {
	for _, r := range s {
		return unicode.IsLower(r)
	}
	return false
}

// usualSpacing is the median distance between consecutive lines of a
// block (infinite for a single line).
func usualSpacing(block []textLine) float64 {
	var gaps []float64
	for i := 1; i < len(block); i++ {
		if g := block[i-1].y - block[i].y; g > 0 {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) == 0 {
		return math.Inf(1)
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
