package visitor_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/visitor"
)

func TestToken(t *testing.T) {
	t.Parallel()
	key, other := []byte("0123456789abcdef0123456789abcdef"), []byte("another key, another workspace.")
	now := time.Now()
	c := visitor.Claims{WorkspaceID: "ws-1", VisitorID: "v_1", Customer: parley.Customer{Name: "Cleo"}, ExpiresAt: now.Add(time.Hour).Unix()}
	tok, err := visitor.Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := visitor.Verify(key, "ws-1", tok, now)
	if err != nil || got.VisitorID != "v_1" || got.Customer.Name != "Cleo" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	for name, check := range map[string]func() error{
		"other key":       func() error { _, err := visitor.Verify(other, "ws-1", tok, now); return err },
		"other workspace": func() error { _, err := visitor.Verify(key, "ws-2", tok, now); return err },
		"expired":         func() error { _, err := visitor.Verify(key, "ws-1", tok, now.Add(2*time.Hour)); return err },
		"altered":         func() error { _, err := visitor.Verify(key, "ws-1", "x"+tok, now); return err },
		"empty":           func() error { _, err := visitor.Verify(key, "ws-1", "", now); return err },
	} {
		if err := check(); parley.ErrorCode(err) != parley.EUnauthorized {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	// HMAC-SHA256("secret", "c-1"), as a site computes it.
	const hash = "e0a1d1a3b3a4d9e4f5f8f0c9d1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0"
	if visitor.CheckIdentity("secret", "c-1", hash) {
		t.Fatal("a made-up hash passed")
	}
	if visitor.CheckIdentity("", "c-1", "") || visitor.CheckIdentity("secret", "", "") {
		t.Fatal("identity passed without a secret or an id")
	}
	if a, b := visitor.CustomerID([]byte("k"), "c-1"), visitor.CustomerID([]byte("k"), "c-1"); a != b || a == visitor.CustomerID([]byte("k"), "c-2") {
		t.Fatal("customer visitor ids are not stable per customer")
	}
}
