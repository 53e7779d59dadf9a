package ingest

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// The labels that replace a customer's own name and identifiers.
const (
	MaskName = "[name]"
	MaskID   = "[id]"
)

// Identity is whose text is masked: the customer's name (each word of it
// is masked), e-mail address and customer id, and Keep, text whose codes
// and numbers are not the customer's (the knowledge that answered: the
// error code it explains is what the customer asked about).
type Identity struct {
	Customer parley.Customer
	Keep     string
}

var (
	// introduction catches a name the customer gives ("my name is Anna
	// Weber", "ich heiße Jörg").
	introduction = regexp.MustCompile(`(?i:my name is|my name's|mein name ist|ich heiße|ich heisse|je m'appelle|je m’appelle|me llamo|mi nombre es|mi chiamo|mijn naam is|meu nome é)\s+(\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’-]+)?)`)
	// signOff catches a name signed at the end of a line ("Thanks, Anna").
	signOff = regexp.MustCompile(`(?m)(?i:thanks|thank you|regards|best|cheers|danke|vielen dank|grüße|gruß|grüsse|lg|vg|merci|cordialement|gracias|saludos|grazie)[,!.]?\s+(\p{Lu}\p{L}+(?:\s+\p{Lu}\p{L}+)?)[.!]?\s*$`)
	// dateLike is a date written with separators, not an identifier.
	dateLike = regexp.MustCompile(`^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$`)
)

// MaskCustomer masks what MaskPII masks, and the customer's own name
// (the words of Customer.Name, and names introduced as "my name is ..."
// or signed at the end of a line) with [name], and their identifiers with
// [id]: the customer id, codes (order, ticket or customer numbers such
// as VO-482913: letters and digits) and numbers of five or more digits,
// unless Keep names them too. Dates, prices and short numbers stay.
func MaskCustomer(s string, id Identity) string {
	s = MaskPII(s)
	if email := strings.TrimSpace(id.Customer.Email); email != "" {
		s = replaceFold(s, email, MaskEmail)
	}
	if cid := strings.TrimSpace(id.Customer.ID); utf8.RuneCountInString(cid) >= 3 {
		s = replaceFold(s, cid, MaskID)
	}
	names := map[string]bool{}
	for _, w := range strings.FieldsFunc(id.Customer.Name, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '-' }) {
		if utf8.RuneCountInString(w) >= 2 {
			names[strings.ToLower(w)] = true
		}
	}
	for _, re := range []*regexp.Regexp{introduction, signOff} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			for _, w := range strings.Fields(m[1]) {
				names[strings.ToLower(w)] = true
			}
		}
	}
	s = maskWords(s, func(w string) bool { return names[strings.ToLower(w)] }, isNameRune, MaskName)
	keep := identifiers(id.Keep)
	return maskWords(s, func(w string) bool {
		c, ok := identifier(w)
		return ok && !slices.Contains(keep, c)
	}, isCodeRune, MaskID)
}

func isNameRune(r rune) bool { return unicode.IsLetter(r) || r == '\'' || r == '’' || r == '-' }

func isCodeRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '/' || r == '.' || r == '#'
}

// identifier returns w as an identifier (upper-cased, separators left
// out) when it is one: a code, or a number of five or more digits that is
// not a date.
func identifier(w string) (string, bool) {
	w = strings.Trim(w, "-/.#")
	if dateLike.MatchString(w) {
		return "", false
	}
	if codes := retrieval.Codes(w); len(codes) == 1 {
		return codes[0], true
	}
	digits := strings.Map(func(r rune) rune {
		if r == '-' || r == '/' || r == '.' || r == '#' {
			return -1
		}
		return r
	}, w)
	if len(digits) >= 5 && strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return digits, true
	}
	return "", false
}

// identifiers are the identifiers in s.
func identifiers(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !isCodeRune(r) }) {
		if c, ok := identifier(w); ok {
			out = append(out, c)
		}
	}
	return out
}

// maskWords replaces each maximal run of runes in s for which in is true,
// trimmed of the separators '-', '/', '.', '#' and quotes at its ends,
// with label when mask approves it.
func maskWords(s string, mask func(string) bool, in func(rune) bool, label string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !in(r) {
			i += size
			continue
		}
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !in(r) {
				break
			}
			j += size
		}
		word := strings.TrimRight(s[i:j], "-/.#'’")
		start := i + len(s[i:j]) - len(strings.TrimLeft(s[i:j], "-/.#'’"))
		end := i + len(word)
		if start < end && mask(s[start:end]) {
			b.WriteString(s[last:start])
			b.WriteString(label)
			last = end
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// replaceFold replaces every occurrence of old in s, ignoring case, with
// label.
func replaceFold(s, old, label string) string {
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(old))
	return re.ReplaceAllLiteralString(s, label)
}

// MaskConversation masks a resolved conversation for export: every
// message and the resolution, of PII and of the customer's own name and
// identifiers, keeping the codes of the knowledge the agent named.
func MaskConversation(c *parley.ResolvedConversation) {
	id := Identity{Customer: c.Customer, Keep: c.Knowledge}
	for i := range c.Messages {
		c.Messages[i].Text = MaskCustomer(c.Messages[i].Text, id)
	}
	c.Resolution = MaskCustomer(c.Resolution, id)
}

// NormalizePhrasing is the form in which two phrasings are the same:
// lower case, letters and digits only, single spaces.
func NormalizePhrasing(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}
