package prompts

import (
	"slices"
	"strings"
)

// languageNames are the names the prompts use for common ISO 639-1 codes;
// other valid codes are named by their code.
var languageNames = map[string]string{
	"ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
	"de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
	"fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
	"hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
	"lt": "Lithuanian", "lv": "Latvian", "nb": "Norwegian Bokmål", "nl": "Dutch", "no": "Norwegian",
	"pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
	"sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish",
	"uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}

// LanguageName returns "German (de)" for "de", and the code alone for codes
// it has no name for.
func LanguageName(code string) string {
	base, _, _ := strings.Cut(code, "-")
	if n, ok := languageNames[base]; ok {
		return n + " (" + code + ")"
	}
	return "the language with code " + code
}

// Tones a suggested reply may be written in.
var Tones = []string{"neutral", "friendly", "formal", "empathetic", "concise"}

// ValidTone reports whether tone is empty or one of Tones.
func ValidTone(tone string) bool { return tone == "" || slices.Contains(Tones, tone) }

// RewriteActions are the rewrites the rewrite prompt knows.
var RewriteActions = []string{"improve", "fix_grammar", "shorten", "expand", "friendly", "formal", "simplify"}

// ValidAction reports whether action is one of RewriteActions.
func ValidAction(action string) bool { return slices.Contains(RewriteActions, action) }
