package parley

import (
	"regexp"
	"strings"
)

// iso6391 are the ISO 639-1 two-letter language codes (the 183 of the
// standard's current list, and "sh").
var iso6391 = toSet(strings.Fields(`
	aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
	da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
	hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
	la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
	oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr
	ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
	yo za zh zu`))

func toSet(words []string) map[string]bool {
	set := make(map[string]bool, len(words))
	for _, w := range words {
		set[w] = true
	}
	return set
}

// subtag is a region or script after the language ("BR" in "pt-BR",
// "Hant" in "zh-Hant").
var subtag = regexp.MustCompile(`^[A-Za-z0-9]{2,8}$`)

// ValidLanguage reports whether code is an ISO 639-1 language code,
// optionally with a region or script: "en", "pt-BR", "zh-Hant".
func ValidLanguage(code string) bool {
	base, rest, hasRest := strings.Cut(code, "-")
	return iso6391[base] && (!hasRest || subtag.MatchString(rest))
}

// CheckLanguage returns the invalid-input error for a field whose value is
// not a language code.
func CheckLanguage(field, code string) error {
	if !ValidLanguage(code) {
		return Errorf(EInvalid, "%s %q is not a language code: use an ISO 639-1 code such as en, de or pt-BR", field, code)
	}
	return nil
}
