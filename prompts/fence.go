package prompts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Untrusted text (customer messages, knowledge content, text to translate
// or rewrite) goes into a prompt only inside a data block:
//
//	<<<DATA 5f0c2a9e41b7 message role=customer>>>
//	...the text...
//	<<<END 5f0c2a9e41b7>>>
//
// The system prompt says that everything inside such blocks is data to
// work on, never instructions. The id is random per prompt, so the content
// cannot guess it, and sanitize removes from the content anything that
// looks like a block marker, the id itself and chat-template control
// tokens, so no content can close its block early or open a new one.

// fenceOpen and fenceClose write the markers; the header after the id holds
// only values the code chose (kinds, roles, numeric ids), never content.
func fenceOpen(nonce, header string) string { return "<<<DATA " + nonce + " " + header + ">>>" }
func fenceClose(nonce string) string        { return "<<<END " + nonce + ">>>" }

// fence returns text as a data block.
func fence(nonce, header, text string) string {
	return fenceOpen(nonce, header) + "\n" + sanitize(text, nonce) + "\n" + fenceClose(nonce)
}

var (
	// fakeMarker matches anything shaped like a block marker, complete or
	// not: "<<<END", "<< data x >>", "<<</DATA".
	fakeMarker = regexp.MustCompile(`(?i)<{2,}\s*/?\s*(data|end)\b[^<>\n]{0,80}>*`)
	// controlToken matches chat-template control tokens (<|im_start|>,
	// <|eot_id|>, [INST], <<SYS>>) that some servers would otherwise parse
	// out of message content.
	controlToken = regexp.MustCompile(`(?i)<\|[^|<>\n]{0,64}\|>|\[/?INST\]|<</?SYS>>|</?s>`)
	angleRun     = regexp.MustCompile(`<{3,}|>{3,}`)
)

// sanitize makes text safe to put inside a data block with the given id.
func sanitize(text, nonce string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	// Removing one marker can join its neighbours into a new one, so repeat
	// until nothing changes.
	for i := 0; i < 8; i++ {
		before := text
		if nonce != "" {
			text = strings.ReplaceAll(text, nonce, "")
		}
		text = fakeMarker.ReplaceAllString(text, "")
		text = controlToken.ReplaceAllString(text, "")
		text = angleRun.ReplaceAllStringFunc(text, func(s string) string { return s[:2] })
		if text == before {
			break
		}
	}
	return strings.TrimSpace(text)
}

// newNonce returns a random 12-hex-digit block id.
func newNonce() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("prompts: read random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}
