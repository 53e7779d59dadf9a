// Package visitor issues and checks the signed tokens that bind a chat
// widget's browser to its visitor, and checks customer ids signed by the
// customer's own site (HMAC identity verification, as Intercom does).
//
// A token is base64url(JSON claims) "." base64url(HMAC-SHA256). The key is
// the workspace's visitor key (random, kept in the database, shared by
// every replica), so a token of one workspace means nothing in another.
package visitor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Lifetime is how long a token is valid; the widget gets a fresh one with
// every session.
const Lifetime = 30 * 24 * time.Hour

// Claims are what a token binds: the workspace, the visitor and, when the
// site vouched for them, the customer.
type Claims struct {
	WorkspaceID string `json:"w"`
	VisitorID   string `json:"v"`
	// Customer is who the visitor said they are: its ID only when
	// Verified (signed by the site), its name, email and language as given.
	Customer  parley.Customer `json:"c"`
	Verified  bool            `json:"vf,omitempty"`
	ExpiresAt int64           `json:"exp"` // Unix seconds
}

// Expires returns when the token ends.
func (c Claims) Expires() time.Time { return time.Unix(c.ExpiresAt, 0).UTC() }

// Sign returns the token for c.
func Sign(key []byte, c Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode visitor token: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p)), nil
}

func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("parley-visitor-v1." + payload))
	return h.Sum(nil)
}

// Verify checks a token's signature, workspace and expiry and returns its
// claims. Any failure is parley.EUnauthorized, without saying which.
func Verify(key []byte, workspaceID, token string, now time.Time) (Claims, error) {
	var c Claims
	bad := parley.Errorf(parley.EUnauthorized, "visitor token is invalid or expired: start a new session (POST /v1/widget/session)")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return c, bad
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, p)) {
		return c, bad
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, bad
	}
	if c.WorkspaceID != workspaceID || c.VisitorID == "" || now.Unix() >= c.ExpiresAt {
		return Claims{}, bad
	}
	return c, nil
}

// NewID returns a new anonymous visitor id.
func NewID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate visitor id: %w", err)
	}
	return "v_" + hex.EncodeToString(b), nil
}

// CustomerID returns the visitor id of a verified customer: the same on
// every device, so the customer finds their conversation wherever they
// sign in, and derived with the workspace's key, so it cannot be guessed.
func CustomerID(key []byte, customerID string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("parley-customer." + customerID))
	return "v_c" + hex.EncodeToString(h.Sum(nil))[:32]
}

// CheckIdentity reports whether userHash is the lower-case hex
// HMAC-SHA256 of customerID under the workspace's identity secret.
func CheckIdentity(secret, customerID, userHash string) bool {
	if secret == "" || customerID == "" {
		return false
	}
	got, err := hex.DecodeString(userHash)
	if err != nil {
		return false
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(customerID))
	return hmac.Equal(got, h.Sum(nil))
}
