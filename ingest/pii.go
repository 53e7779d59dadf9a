package ingest

import (
	"regexp"
	"strings"
)

// The labels that replace masked personal data.
const (
	MaskEmail = "[email]"
	MaskPhone = "[phone]"
	MaskCard  = "[card]"
	MaskIBAN  = "[iban]"
)

var (
	emailRe = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}`)
	ibanRe  = regexp.MustCompile(`(?i)\b[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,30}\b`)
	cardRe  = regexp.MustCompile(`\b[0-9](?:[ \-]?[0-9]){12,18}\b`)
)

// MaskPII replaces personal data in s: e-mail addresses with [email], IBANs
// (checked with their mod-97 check digits) with [iban], payment card
// numbers (13 to 19 digits, spaces or dashes allowed, passing the Luhn
// check) with [card], and phone numbers with [phone]. Phone numbers are
// recognised by shape and context (see maskPhones), so prices, dates,
// times, years, version numbers and order numbers are left alone.
func MaskPII(s string) string {
	if !strings.ContainsAny(s, "0123456789@") {
		return s
	}
	s = emailRe.ReplaceAllString(s, MaskEmail)
	s = maskMatches(s, ibanRe, MaskIBAN, validIBANPrefix)
	s = maskMatches(s, cardRe, MaskCard, validCardSpan)
	return maskPhones(s)
}

// maskMatches replaces the part of each match of re that accept approves:
// accept returns the approved span s[from:to] within the match s[start:end],
// or ok=false to keep the match as it is. The search resumes right after
// an approved span, so the rest of a long match gets its own chance (and a
// second pass finds nothing new).
func maskMatches(s string, re *regexp.Regexp, label string, accept func(s string, start, end int) (from, to int, ok bool)) string {
	var b strings.Builder
	last, pos := 0, 0
	for pos < len(s) {
		loc := re.FindStringIndex(s[pos:])
		if loc == nil {
			break
		}
		start, end := pos+loc[0], pos+loc[1]
		from, to, ok := accept(s, start, end)
		if !ok || to <= from {
			pos = max(end, start+1)
			continue
		}
		b.WriteString(s[last:from])
		b.WriteString(label)
		last, pos = to, to
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// validIBANPrefix accepts the longest run of space-separated groups of the
// match that is a valid IBAN, so that a following word in capitals is not
// taken for part of it.
func validIBANPrefix(s string, start, end int) (from, to int, ok bool) {
	for m := s[start:end]; len(m) >= 15; {
		if validIBAN(m) {
			return start, start + len(m), true
		}
		i := strings.LastIndexByte(m, ' ')
		if i < 0 {
			break
		}
		m = m[:i]
	}
	return 0, 0, false
}

// validIBAN checks the ISO 13616 shape and the mod-97 check digits.
func validIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	rearranged := s[4:] + s[:4]
	rem := 0
	for _, r := range rearranged {
		switch {
		case r >= '0' && r <= '9':
			rem = (rem*10 + int(r-'0')) % 97
		case r >= 'A' && r <= 'Z':
			rem = (rem*100 + int(r-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validCardSpan accepts the longest run of the match's digit groups that
// has 13 to 19 digits and passes the Luhn check, so that a year or a
// quantity written next to a card number does not hide it. A number that
// starts with "+" is left for the phone rules.
func validCardSpan(s string, start, end int) (from, to int, ok bool) {
	if start > 0 && s[start-1] == '+' {
		return 0, 0, false
	}
	// Group boundaries: the match's ends and its separators.
	starts := []int{start}
	ends := []int{end}
	for i := start; i < end; i++ {
		if s[i] == ' ' || s[i] == '-' {
			starts = append(starts, i+1)
			ends = append(ends, i)
		}
	}
	best := 0
	for _, f := range starts {
		for _, t := range ends {
			if t-f <= best {
				continue
			}
			if digits := digitsOf(s[f:t]); len(digits) >= 13 && len(digits) <= 19 && luhnValid(digits) {
				from, to, best = f, t, t-f
			}
		}
	}
	return from, to, best > 0
}

func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
