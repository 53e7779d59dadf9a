package api_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

func TestWebhookAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]

	status, body := e.do("GET", "/v1/webhook", admin, "")
	wantError(t, status, body, 404, "not_found")

	status, body = e.do("PUT", "/v1/webhook", admin, `{"url": "https://hooks.example.com/parley"}`)
	secret, _ := body["secret"].(string)
	prefix, _ := body["secret_prefix"].(string)
	if status != 200 || !strings.HasPrefix(secret, "whsec_") || prefix == "" || !strings.HasPrefix(secret, prefix) {
		t.Fatalf("put with generated secret: %d %v", status, body)
	}
	status, body = e.do("GET", "/v1/webhook", admin, "")
	if status != 200 || body["url"] != "https://hooks.example.com/parley" || body["secret_prefix"] != prefix || body["pending"] != 0.0 {
		t.Fatalf("get: %d %v", status, body)
	}
	if _, leaked := body["secret"]; leaked {
		t.Fatalf("GET returned the secret: %v", body)
	}

	status, body = e.do("PUT", "/v1/webhook", admin, `{"url": "http://127.0.0.1:9999/in", "secret": "0123456789abcdefXYZ"}`)
	if _, leaked := body["secret"]; status != 200 || leaked || body["secret_prefix"] != "0123" {
		t.Fatalf("put with own secret: %d %v", status, body)
	}

	errs := []struct{ name, method, body, key string }{
		{"ftp url", "PUT", `{"url": "ftp://example.com/x"}`, admin},
		{"no url", "PUT", `{"secret": "0123456789abcdefXYZ"}`, admin},
		{"not a url", "PUT", `{"url": "hooks.example.com"}`, admin},
		{"short secret", "PUT", `{"url": "https://example.com", "secret": "short"}`, admin},
		{"unknown field", "PUT", `{"url": "https://example.com", "events": ["x"]}`, admin},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, "/v1/webhook", tt.key, tt.body)
			wantError(t, status, body, 400, "invalid")
		})
	}
	status, body = e.do("GET", "/v1/webhook", e.keys[parley.RoleAgent], "")
	wantError(t, status, body, 403, "forbidden")

	// Escalations while a webhook is set leave events to deliver.
	e.escalate("I want to talk to a human")
	if _, body = e.do("GET", "/v1/webhook", admin, ""); body["pending"] != 1.0 {
		t.Fatalf("pending after an escalation: %v", body)
	}
	if status, _ := e.do("DELETE", "/v1/webhook", admin, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	status, body = e.do("DELETE", "/v1/webhook", admin, "")
	wantError(t, status, body, 404, "not_found")
}
