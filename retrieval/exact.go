package retrieval

import (
	"slices"
	"strings"
	"unicode"
)

// A code is a token that names one thing exactly: an error code (E-07),
// a part number or SKU (VT-2231), an order number (VO-482913), a model
// number (X200), a plan code (BZ-M40). It has letters and digits; its
// kind is its letters before the first digit ("E", "VT", "BZM") or, as
// written, before the first separator ("BZ" for BZ-M40 and BZ-L80: one
// family of codes). Similar questions and answers differ
// in nothing but such a token ("error E-09" and "error E-07"), so no
// similarity can tell them apart: the tokens must match exactly.

// unitWords are letter parts that make a number a quantity, not a code
// ("183cm", "625Wh", "3rd").
var unitWords = map[string]bool{
	"mm": true, "cm": true, "m": true, "km": true, "kg": true, "g": true, "mg": true, "l": true, "ml": true,
	"w": true, "kw": true, "wh": true, "kwh": true, "v": true, "mah": true, "ah": true, "hz": true,
	"h": true, "min": true, "s": true, "ms": true, "d": true, "bar": true, "psi": true, "nm": true,
	"gb": true, "mb": true, "tb": true, "kb": true, "x": true, "k": true, "st": true, "nd": true, "rd": true,
	"th": true, "am": true, "pm": true, "eur": true, "usd": true, "gbp": true, "chf": true, "mph": true,
	"kmh": true, "in": true, "ft": true, "lb": true, "lbs": true, "oz": true, "de": true, "er": true, "e": true,
}

// codeSeparators are left out of a code ("E-07" is "E07").
var codeSeparators = strings.NewReplacer("-", "", "/", "", ".", "")

// Codes returns the codes in text, upper-cased without separators ("E-07"
// and "e07" are both "E07"), each once, in order.
func Codes(text string) []string {
	var out []string
	for _, c := range codes(text) {
		out = append(out, c.id)
	}
	return out
}

// code is a code's id (see Codes) and its family as written: its letters
// before the first digit or separator ("BZ" for BZ-M40).
type code struct{ id, family string }

func codes(text string) []code {
	var out []code
	for _, f := range strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '/' || r == '.')
	}) {
		f = strings.ToUpper(strings.Trim(f, "-/."))
		c := codeSeparators.Replace(f)
		if !isCode(c) || slices.ContainsFunc(out, func(o code) bool { return o.id == c }) {
			continue
		}
		family := f
		if i := strings.IndexFunc(f, func(r rune) bool { return !unicode.IsLetter(r) }); i >= 0 {
			family = f[:i]
		}
		out = append(out, code{id: c, family: family})
	}
	return out
}

// sameKind reports whether two codes are of one kind: the same letters
// before their first digit, or the same family as written.
func sameKind(a, b code) bool {
	return kind(a.id) == kind(b.id) || a.family != "" && a.family == b.family
}

func isCode(c string) bool {
	var letters, digits int
	for _, r := range c {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLetter(r):
			letters++
		default:
			return false
		}
	}
	if letters == 0 || digits == 0 || len(c) < 3 {
		return false
	}
	// A number followed by a unit is a quantity.
	unit := strings.TrimLeftFunc(c, unicode.IsDigit)
	return !unitWords[strings.ToLower(unit)]
}

// kind is a code's letters before its first digit ("E" for E07).
func kind(code string) string {
	i := strings.IndexFunc(code, unicode.IsDigit)
	return code[:i]
}

// MissingCode returns a code the question names that the answer text does
// not, while the answer names another code of the same kind ("E09" asked,
// only "E07" answered; "BZ-L80" asked, "BZ-M40" answered), or "" when there is none: such an answer is about
// something else however similar it reads. An answer naming no code of
// that kind is generic ("track your order under My account") and does not
// contradict the question.
func MissingCode(question, answer string) string {
	asked := codes(question)
	if len(asked) == 0 {
		return ""
	}
	given := codes(answer)
	for _, c := range asked {
		if slices.ContainsFunc(given, func(g code) bool { return g.id == c.id }) {
			continue
		}
		for _, g := range given {
			if sameKind(g, c) {
				return c.id
			}
		}
	}
	return ""
}
