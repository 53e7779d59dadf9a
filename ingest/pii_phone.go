package ingest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phoneRe finds phone-number candidates: digits with spaces, dots, dashes,
// slashes and parentheses, optionally after "+". isPhone decides.
var phoneRe = regexp.MustCompile(`\+?\(?[0-9][0-9().\-/ ]*[0-9]\)?`)

// Words right before a number that say what it is. The nearest one of the
// three words before the number decides.
var (
	phoneWords    = wordSet("phone", "call", "tel", "telephone", "mobile", "cell", "whatsapp", "fax", "sms", "text", "ring", "reach", "contact", "landline")
	notPhoneWords = wordSet("order", "invoice", "tracking", "ticket", "ref", "reference", "case", "account", "acct", "sku", "serial", "item", "product", "model", "version", "ver", "build", "release", "zip", "postcode", "postal", "id", "code", "pin", "booking", "reservation", "confirmation", "transaction", "receipt", "parcel", "package", "shipment", "policy", "claim", "membership", "page", "pages", "room", "year", "years")
)

// currencies that mark a number as an amount when written right before or
// after it.
var currencies = []string{"$", "€", "£", "¥", "₹", "eur", "usd", "gbp", "chf", "sek", "nok", "dkk", "jpy", "aud", "cad", "inr", "kr", "zł", "pln"}

// maskPhones replaces the phone numbers in s with [phone].
func maskPhones(s string) string {
	return maskMatches(s, phoneRe, MaskPhone, func(s string, start, end int) (int, int, bool) {
		start, end = balanceParens(s, start, end)
		return start, end, isPhone(s, start, end)
	})
}

// isPhone decides whether s[start:end] is a phone number. It wants 7 to 15
// digits and rejects what the text around it or its shape says is
// something else: a price, a decimal, a date, a time, an IP address, a
// version, a range of years, an order or reference number.
func isPhone(s string, start, end int) bool {
	m := s[start:end]
	if start >= end {
		return false
	}
	digits := digitsOf(m)
	if len(digits) < 7 || len(digits) > 15 {
		return false
	}
	plus := m[0] == '+'
	if !plausibleContext(s, start, end) {
		return false
	}
	groups, seps := splitGroups(m)
	switch {
	case isDate(groups, seps), isIPv4(groups, seps), allYears(groups), isRange(groups, seps), roundNumber(groups, seps):
		return false
	case strings.Contains(seps, ".") && !plus && !dottedPhone(groups):
		return false // a version number or a dotted decimal
	}
	switch wordBefore(s[:start]) {
	case 1:
		return true
	case -1:
		return plus
	}
	if len(groups) == 1 && !plus {
		// A bare run of digits is a phone number only when long enough to
		// be a full national number; shorter runs are usually references.
		return len(digits) >= 10
	}
	return true
}

// plausibleContext looks at the characters around the candidate.
func plausibleContext(s string, start, end int) bool {
	if touchesLabel(s[:start], s[end:]) {
		return false // glued to masked data: as glued to a digit before masking
	}
	prev, size := utf8.DecodeLastRuneInString(s[:start])
	before, _ := utf8.DecodeLastRuneInString(s[:start-size])
	switch {
	case prev == utf8.RuneError: // start of text
	case isWordRune(prev), strings.ContainsRune("#$€£¥₹@&*=", prev):
		return false // A1234567, #1234567, $1234567, x=1234567
	case strings.ContainsRune("-/.,:", prev) && (isWordRune(before)):
		return false // ORD-1234567, a/1234567, 1,2345678, id:1234567
	}
	next, size := utf8.DecodeRuneInString(s[end:])
	after, _ := utf8.DecodeRuneInString(s[end+size:])
	switch {
	case next == utf8.RuneError: // end of text
	case isWordRune(next), strings.ContainsRune("%‰°@", next):
		return false // 1234567kg, 1234567%, 12345678@host
	case strings.ContainsRune(".,:", next) && unicode.IsDigit(after):
		return false // 1 234 567,89 / 2024-01-15 10:30
	}
	return !nextToCurrency(lastBytes(s[:start], 8), s[end:min(len(s), end+8)])
}

// touchesLabel reports a mask label right before or after a number.
func touchesLabel(before, after string) bool {
	for _, label := range []string{MaskPhone, MaskEmail, MaskCard, MaskIBAN} {
		if strings.HasSuffix(before, label) || strings.HasPrefix(after, label) {
			return true
		}
	}
	return false
}

// nextToCurrency reports a currency sign or code right before or after a
// number; a code must be a word of its own ("amateur" does not end in EUR).
func nextToCurrency(before, after string) bool {
	before = strings.ToLower(strings.TrimRight(before, " "))
	after = strings.ToLower(strings.TrimLeft(after, " "))
	for _, c := range currencies {
		if strings.HasSuffix(before, c) {
			r, _ := utf8.DecodeLastRuneInString(before[:len(before)-len(c)])
			if !unicode.IsLetter(r) {
				return true
			}
		}
		if strings.HasPrefix(after, c) {
			r, _ := utf8.DecodeRuneInString(after[len(c):])
			if !unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}

// splitGroups returns the digit groups of m and its separators in order.
func splitGroups(m string) (groups []string, seps string) {
	var sepb strings.Builder
	start := -1
	for i := 0; i <= len(m); i++ {
		digit := i < len(m) && m[i] >= '0' && m[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			groups = append(groups, m[start:i])
			start = -1
		}
		if i < len(m) && strings.IndexByte(" .-/", m[i]) >= 0 {
			sepb.WriteByte(m[i])
		}
	}
	return groups, sepb.String()
}

// isDate matches 2024-01-15, 15.01.2024, 01/15/24 and the like.
func isDate(groups []string, seps string) bool {
	if len(groups) != 3 || len(seps) != 2 || seps[0] != seps[1] || seps[0] == ' ' {
		return false
	}
	a, b, c := len(groups[0]), len(groups[1]), len(groups[2])
	return (a == 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && (c == 4 || c == 2))
}

// isRange matches "1000-2000": two groups of the same length.
func isRange(groups []string, seps string) bool {
	return len(groups) == 2 && seps == "-" && len(groups[0]) == len(groups[1])
}

// roundNumber matches "10 000 000": thousands written with spaces.
func roundNumber(groups []string, seps string) bool {
	if len(groups) < 2 || len(groups[0]) > 3 || strings.Trim(seps, " ") != "" {
		return false
	}
	for _, g := range groups[1:] {
		if g != "000" {
			return false
		}
	}
	return true
}

func isIPv4(groups []string, seps string) bool {
	if len(groups) != 4 || seps != "..." {
		return false
	}
	for _, g := range groups {
		if len(g) > 3 {
			return false
		}
	}
	return true
}

// allYears matches "1999 2023", "2019-2024".
func allYears(groups []string) bool {
	for _, g := range groups {
		if len(g) != 4 || (g[:2] != "19" && g[:2] != "20") {
			return false
		}
	}
	return true
}

// dottedPhone accepts 555.123.4567 and 06.12.34.56.78 but not 10.0.19045.
func dottedPhone(groups []string) bool {
	if len(groups) < 3 {
		return false
	}
	for _, g := range groups {
		if len(g) < 2 || len(g) > 4 {
			return false
		}
	}
	return true
}

// balanceParens drops an unmatched "(" at the start or ")" at the end.
func balanceParens(s string, start, end int) (int, int) {
	m := s[start:end]
	open, closed := strings.Count(m, "("), strings.Count(m, ")")
	if open > closed && m[0] == '(' {
		start++
	}
	if closed > open && m[len(m)-1] == ')' {
		end--
	}
	// What is left must still start and end with a digit or "+"/"(" and ")".
	for start < end && strings.IndexByte(" .-/", s[end-1]) >= 0 {
		end--
	}
	return start, end
}

// wordBefore reports whether the nearest telling word among the three
// before a number says phone (1), not a phone (-1), or nothing (0).
func wordBefore(before string) int {
	window := lastBytes(before, 60)
	for _, label := range []string{MaskPhone, MaskEmail, MaskCard, MaskIBAN} {
		window = strings.ReplaceAll(window, label, " ") // our own labels are no cue
	}
	words := strings.FieldsFunc(strings.ToLower(window), func(r rune) bool { return !unicode.IsLetter(r) })
	for i := len(words) - 1; i >= 0 && i >= len(words)-3; i-- {
		switch {
		case phoneWords[words[i]]:
			return 1
		case notPhoneWords[words[i]]:
			return -1
		}
	}
	return 0
}

// lastBytes returns at most the last n bytes of s, starting on a character.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

func wordSet(words ...string) map[string]bool {
	set := make(map[string]bool, len(words))
	for _, w := range words {
		set[w] = true
	}
	return set
}
