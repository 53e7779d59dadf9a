package ingest

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"
)

// Article chunking. Each section (the text under one heading) is cut on
// its own, so a chunk never mixes sections. Paragraphs are packed into
// chunks up to the budget; a paragraph over the budget is cut into lines,
// then sentences, then token-bounded pieces. Consecutive chunks of one
// section overlap: the next chunk starts with the last sentences (about
// Overlap tokens) of the one before.
//
// Every chunk's Text is a context line, "Title — Section > Subsection",
// then a newline and the content; the content alone is the chunk's Answer.
// A top-level heading equal to the title is left out of the section path.

// unit is a piece of a section that is never cut further when packing.
type unit struct {
	text   string
	sep    string // joins it to the unit before it in a chunk: "\n\n", "\n", " " or ""
	tokens int
}

func (c *Chunker) article(ctx context.Context, d Document) ([]Chunk, error) {
	title := collapseSpace(d.Title)
	var chunks []Chunk
	for _, s := range parseSections(d.Body) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		path := s.path
		if len(path) > 0 && strings.EqualFold(collapseSpace(path[0]), title) {
			path = path[1:]
		}
		sectionPath := strings.Join(path, " > ")
		context := c.contextLine(title, sectionPath)
		packed, err := c.packSection(ctx, context, s.paragraphs)
		if err != nil {
			return nil, err
		}
		for _, p := range packed {
			chunks = append(chunks, Chunk{
				Ordinal:     len(chunks),
				Text:        withContext(context, p.content),
				Answer:      p.content,
				SectionPath: sectionPath,
				Tokens:      p.tokens,
			})
		}
	}
	return chunks, nil
}

// contextLine is "Title — Section > Subsection", at most max/4 tokens.
func (c *Chunker) contextLine(title, sectionPath string) string {
	line := title
	switch {
	case title == "":
		line = sectionPath
	case sectionPath != "":
		line = title + " — " + sectionPath
	}
	return strings.TrimSpace(c.tok.Truncate(line, c.max/4))
}

func withContext(context, content string) string {
	if context == "" {
		return content
	}
	return context + "\n" + content
}

// packed is the content of one chunk and the tokens of its full Text.
type packed struct {
	content string
	tokens  int
}

// packSection returns the contents of the chunks of one section. It stops
// with ctx's error when ctx ends: one section can be all of a huge file.
func (c *Chunker) packSection(ctx context.Context, context string, paragraphs []string) ([]packed, error) {
	fixed := 0 // tokens of the context line and its newline
	if context != "" {
		fixed = c.tok.Count(context + "\n")
	}
	budget := c.max - fixed
	var units []unit
	for _, p := range paragraphs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if units, err = c.appendUnits(ctx, units, p, "\n\n", budget); err != nil {
			return nil, err
		}
	}
	join := func(us []unit) string {
		var b strings.Builder
		for i, u := range us {
			if i > 0 {
				b.WriteString(u.sep)
			}
			b.WriteString(u.text)
		}
		return b.String()
	}
	render := func(us []unit) string { return strings.TrimSpace(join(us)) }
	var (
		out      []packed
		cur      []unit // the chunk being filled
		carried  int    // leading units of cur carried over as overlap (0 or 1)
		estimate = fixed
		queue    = units
	)
	for len(queue) > 0 || len(cur) > carried {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Fill by estimate (the sum of unit counts, a close upper bound)...
		if len(queue) > 0 {
			u := queue[0]
			add := u.tokens
			if len(cur) > 0 && u.sep != "" {
				add++
			}
			if len(cur) == carried || estimate+add <= c.max {
				cur = append(cur, u)
				estimate += add
				queue = queue[1:]
				continue
			}
		}
		// ...then close the chunk with the longest run of units whose exact
		// count fits, and put the rest back.
		n, tokens := len(cur), 0
		for ; n > carried; n-- {
			if tokens = c.tok.Count(withContext(context, render(cur[:n]))); tokens <= c.max {
				break
			}
		}
		if n == carried {
			if carried > 0 {
				// The overlap leaves no room for the next paragraph: cut the
				// paragraph into lines or sentences, or else drop the overlap.
				if parts := c.splitUnit(cur[1]); parts != nil {
					queue = slices.Concat(parts, cur[2:], queue)
					cur = cur[:1]
				} else {
					cur, carried = cur[1:], 0
				}
			} else { // a unit that does not fit even alone: cut it in two
				queue = slices.Concat(c.halve(cur[0]), cur[1:], queue)
				cur = nil
			}
			estimate = fixed + sumTokens(cur)
			continue
		}
		out = append(out, packed{content: render(cur[:n]), tokens: tokens})
		tail := c.overlapTail(join(cur[:n]))
		queue = slices.Concat(cur[n:], queue)
		cur, carried, estimate = nil, 0, fixed
		if tail.text != "" && len(queue) > 0 {
			cur, carried, estimate = []unit{tail}, 1, fixed+tail.tokens
		}
	}
	return out, nil
}

// appendUnits cuts paragraph p into units of at most budget tokens.
func (c *Chunker) appendUnits(ctx context.Context, units []unit, p, sep string, budget int) ([]unit, error) {
	if tokens, ok := c.countWithin(p, budget); ok {
		return append(units, unit{text: p, sep: sep, tokens: tokens}), nil
	}
	lines := strings.Split(p, "\n")
	if len(lines) > 1 {
		for i, line := range lines {
			if i > 0 {
				sep = "\n"
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			var err error
			if units, err = c.appendUnits(ctx, units, line, sep, budget); err != nil {
				return nil, err
			}
		}
		return units, nil
	}
	sentences := splitSentences(p)
	if len(sentences) > 1 {
		for i, s := range sentences {
			if i > 0 {
				sep = " "
			}
			var err error
			if units, err = c.appendUnits(ctx, units, s, sep, budget); err != nil {
				return nil, err
			}
		}
		return units, nil
	}
	// Leave room for the overlap, so the next piece can carry it.
	pieces, err := c.hardSplit(ctx, p, max(budget-c.overlap, budget/2))
	if err != nil {
		return nil, err
	}
	for i, piece := range pieces {
		if i > 0 {
			sep = ""
		}
		units = append(units, unit{text: piece, sep: sep, tokens: c.tok.Count(piece)})
	}
	return units, nil
}

// splitUnit cuts a unit into its lines, else its sentences; nil if it has
// only one.
func (c *Chunker) splitUnit(u unit) []unit {
	var parts []string
	sep := "\n"
	if strings.Contains(u.text, "\n") {
		parts = strings.Split(u.text, "\n")
	} else {
		parts, sep = splitSentences(u.text), " "
	}
	if len(parts) < 2 {
		return nil
	}
	var units []unit
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		s := sep
		if len(units) == 0 {
			s = u.sep
		}
		units = append(units, unit{text: p, sep: s, tokens: c.tok.Count(p)})
	}
	return units
}

// countWithin returns the tokens of s and whether they are at most budget.
// Text far longer than any budget is not counted (0, false): no token is
// longer than 256 bytes.
func (c *Chunker) countWithin(s string, budget int) (int, bool) {
	if len(s) > budget*256 {
		return 0, false
	}
	n := c.tok.Count(s)
	return n, n <= budget
}

// hardSplit cuts s into pieces of at most budget tokens on token
// boundaries (never inside a UTF-8 character), at a space when there is
// one in the second half of the piece. Each cut looks at a window of the
// text, so a huge unbroken string costs linear time; it stops with ctx's
// error when ctx ends.
func (c *Chunker) hardSplit(ctx context.Context, s string, budget int) ([]string, error) {
	var pieces []string
	window := max(budget*8, 64) // about twice the text budget tokens cover
	for s != "" {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w := s
		if len(w) > window {
			w = w[:window]
			for len(w) > 0 && !utf8.RuneStart(s[len(w)]) {
				w = w[:len(w)-1]
			}
		}
		piece := c.tok.Truncate(w, budget)
		if len(piece) < len(s) {
			if i := strings.LastIndexByte(piece, ' '); i > len(piece)/2 {
				piece = piece[:i+1]
			}
		}
		if piece == "" || !strings.HasPrefix(s, piece) { // cannot happen with budget >= 4 and valid UTF-8
			_, size := utf8.DecodeRuneInString(s)
			piece = s[:size]
		}
		pieces = append(pieces, piece)
		s = s[len(piece):]
	}
	return pieces, nil
}

// halve cuts a unit in two at about half its tokens; a unit of one
// character cannot be cut and is dropped (impossible with MaxTokens >= 16:
// a character is at most 4 tokens).
func (c *Chunker) halve(u unit) []unit {
	if utf8.RuneCountInString(u.text) < 2 {
		return nil
	}
	first := c.tok.Truncate(u.text, max(u.tokens/2, 1))
	if first == "" || first == u.text || !strings.HasPrefix(u.text, first) {
		runes := []rune(u.text)
		first = string(runes[:len(runes)/2])
	}
	second := u.text[len(first):]
	return []unit{
		{text: first, sep: u.sep, tokens: c.tok.Count(first)},
		{text: second, sep: "", tokens: c.tok.Count(second)},
	}
}

// overlapTail returns the end of a chunk's raw content to repeat at the
// start of the next: its last whole sentences up to Overlap tokens, or,
// when the last sentence alone is longer, its last words. The tail is an
// exact suffix of the content, so it joins the next unit as the text did.
func (c *Chunker) overlapTail(raw string) unit {
	if c.overlap <= 0 {
		return unit{}
	}
	best := -1
	bounds := sentenceBounds(raw)
	for i := len(bounds) - 1; i >= 0; i-- {
		if c.tok.Count(raw[bounds[i][0]:]) > c.overlap {
			break
		}
		best = bounds[i][0]
	}
	if best < 0 {
		// Word starts from the end, looking no further back than any
		// Overlap tokens can reach.
		for i := len(raw) - 1; i > 0 && len(raw)-i < c.overlap*16; i-- {
			if !isSpaceByte(raw[i-1]) || isSpaceByte(raw[i]) {
				continue
			}
			if c.tok.Count(raw[i:]) > c.overlap {
				break
			}
			best = i
		}
	}
	if best < 0 {
		return unit{}
	}
	tail := raw[best:]
	return unit{text: tail, tokens: c.tok.Count(tail)}
}

func sumTokens(units []unit) int {
	n := 0
	for _, u := range units {
		n += u.tokens + 1
	}
	return n
}
