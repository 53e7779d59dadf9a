package ingest

import (
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// The positioned text of a page. The reader's own Page.Content looks up a
// font's widths in the file for every glyph, which on files with
// compressed object streams takes seconds a page; this walk of the content
// stream follows the text state of the PDF specification (ISO 32000-1,
// 9.4) with each font's encoding and widths read once per file, and gives
// one glyph per string shown.

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n (m applied first).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func translate(x, y float64) matrix { return matrix{1, 0, 0, 1, x, y} }

// pdfFont is what text extraction needs of a font.
type pdfFont struct {
	enc       pdf.TextEncoding
	twoByte   bool // a composite (Type0) font: two-byte codes
	first     int
	widths    []float64       // simple fonts: widths from first, in 1/1000 em
	cidWidths map[int]float64 // composite fonts
	dflt      float64         // width of codes without one
}

// width is the width of one code, in 1/1000 em.
func (f *pdfFont) width(code int) float64 {
	if f.twoByte {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.dflt
	}
	if i := code - f.first; i >= 0 && i < len(f.widths) {
		return f.widths[i]
	}
	return f.dflt
}

// fontCache holds the fonts of one file, read once each.
type fontCache map[string]*pdfFont

// font returns the page's font called name.
func (c fontCache) font(p pdf.Page, name string) *pdfFont {
	v := p.Resources().Key("Font").Key(name)
	key := v.String()
	if f, ok := c[key]; ok {
		return f
	}
	lf := pdf.Font{V: v}
	f := &pdfFont{enc: lf.Encoder(), dflt: standardWidth(v.Key("BaseFont").Name())}
	if v.Key("Subtype").Name() == "Type0" {
		f.twoByte = true
		f.dflt = 1000
		cid := v.Key("DescendantFonts").Index(0)
		if dw := cid.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.dflt = dw.Float64()
		}
		f.cidWidths = cidWidths(cid.Key("W"))
	} else {
		f.first = int(v.Key("FirstChar").Int64())
		f.widths = lf.Widths()
	}
	if f.enc == nil {
		f.enc = plainEncoding{}
	}
	c[key] = f
	return f
}

// standardWidth is a rough average glyph width, in 1/1000 em, for a font
// without a width table (the standard 14 fonts need none).
func standardWidth(base string) float64 {
	switch b := strings.ToLower(base); {
	case strings.Contains(b, "courier"):
		return 600
	case strings.Contains(b, "times"):
		return 450
	}
	return 520
}

// cidWidths reads a composite font's W array: "c [w1 w2 ...]" gives the
// widths of codes from c on, "first last w" one width for a range.
func cidWidths(w pdf.Value) map[int]float64 {
	out := map[int]float64{}
	for i := 0; i < w.Len(); {
		c := int(w.Index(i).Int64())
		if i+1 < w.Len() && w.Index(i+1).Kind() == pdf.Array {
			ws := w.Index(i + 1)
			for j := 0; j < ws.Len() && j < 1<<16; j++ {
				out[c+j] = ws.Index(j).Float64()
			}
			i += 2
			continue
		}
		if i+2 >= w.Len() {
			break
		}
		last, width := int(w.Index(i+1).Int64()), w.Index(i+2).Float64()
		for code := c; code <= last && code-c < 1<<16; code++ {
			out[code] = width
		}
		i += 3
	}
	return out
}

// plainEncoding reads bytes as Latin-1, for a font without an encoding.
type plainEncoding struct{}

func (plainEncoding) Decode(raw string) string {
	r := make([]rune, len(raw))
	for i := 0; i < len(raw); i++ {
		r[i] = rune(raw[i])
	}
	return string(r)
}

// textState is the graphics and text state the walk keeps.
type textState struct {
	ctm                   matrix
	tc, tw, th, tl, trise float64
	tfs                   float64
	font                  *pdfFont
}

// pageGlyphs returns the strings a page shows, with their positions.
func pageGlyphs(p pdf.Page, fonts fontCache) []glyph {
	contents := p.V.Key("Contents")
	if contents.IsNull() {
		return nil
	}
	var (
		glyphs   []glyph
		g        = textState{ctm: identity, th: 1}
		stack    []textState
		tm, tlm  = identity, identity
		fallback = &pdfFont{enc: plainEncoding{}, dflt: 500}
		byName   = map[string]*pdfFont{} // the page's fonts: resolving a name costs
	)
	show := func(raw string) {
		f := g.font
		if f == nil {
			f = fallback
		}
		trm := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.trise}.mul(tm).mul(g.ctm)
		size := math.Hypot(trm[2], trm[3])
		start := trm
		advance := 0.0
		step := 1
		if f.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(raw); i += step {
			code := int(raw[i])
			if step == 2 {
				code = code<<8 | int(raw[i+1])
			}
			tx := f.width(code)/1000*g.tfs + g.tc
			if step == 1 && code == ' ' {
				tx += g.tw
			}
			advance += tx * g.th
		}
		tm = translate(advance, 0).mul(tm)
		end := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.trise}.mul(tm).mul(g.ctm)
		text := f.enc.Decode(raw)
		if strings.TrimSpace(text) == "" && !strings.Contains(text, " ") {
			return
		}
		glyphs = append(glyphs, glyph{x: start[4], y: start[5], w: end[4] - start[4], size: math.Max(size, 1), s: text})
	}
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "q":
			if len(stack) < 64 {
				stack = append(stack, g)
			}
		case "Q":
			if n := len(stack); n > 0 {
				g, stack = stack[n-1], stack[:n-1]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(g.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tc":
			g.tc = num(0)
		case "Tw":
			g.tw = num(0)
		case "Tz":
			g.th = num(0) / 100
		case "TL":
			g.tl = num(0)
		case "Ts":
			g.trise = num(0)
		case "Tf":
			if len(args) == 2 {
				name := args[0].Name()
				if byName[name] == nil {
					byName[name] = fonts.font(p, name)
				}
				g.font = byName[name]
				g.tfs = num(1)
			}
		case "Td", "TD":
			if op == "TD" {
				g.tl = -num(1)
			}
			tlm = translate(num(0), num(1)).mul(tlm)
			tm = tlm
		case "Tm":
			if len(args) == 6 {
				tlm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
				tm = tlm
			}
		case "T*":
			tlm = translate(0, -g.tl).mul(tlm)
			tm = tlm
		case "Tj", "'", "\"":
			if op != "Tj" {
				if op == "\"" && len(args) == 3 {
					g.tw, g.tc = num(0), num(1)
				}
				tlm = translate(0, -g.tl).mul(tlm)
				tm = tlm
			}
			if len(args) > 0 {
				show(args[len(args)-1].RawString())
			}
		case "TJ":
			if len(args) == 0 {
				return
			}
			a := args[0]
			for i := 0; i < a.Len(); i++ {
				x := a.Index(i)
				if x.Kind() == pdf.String {
					show(x.RawString())
				} else {
					tm = translate(-x.Float64()/1000*g.tfs*g.th, 0).mul(tm)
				}
			}
		}
	})
	return glyphs
}
