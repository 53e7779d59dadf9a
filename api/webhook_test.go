package api_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
)

// allowPrivateWebhooks lets webhook URLs point anywhere, with names that do
// not resolve: tests use example.com names offline and receivers on
// 127.0.0.1.
func allowPrivateWebhooks(o *api.Options) { o.WebhookPolicy.AllowPrivate = true }

func TestWebhookAPI(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, allowPrivateWebhooks)
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

	// Allowed only because the policy allows private addresses here.
	status, body = e.do("PUT", "/v1/webhook", admin, `{"url": "http://127.0.0.1:9999/in", "secret": "0123456789abcdefXYZ"}`)
	if _, leaked := body["secret"]; status != 200 || leaked || body["secret_prefix"] != "0123" {
		t.Fatalf("put with own secret: %d %v", status, body)
	}

	errs := []struct{ name, method, body, key string }{
		{"ftp url", "PUT", `{"url": "ftp://example.com/x"}`, admin},
		{"no url", "PUT", `{"secret": "0123456789abcdefXYZ"}`, admin},
		{"not a url", "PUT", `{"url": "hooks.example.com"}`, admin},
		{"userinfo", "PUT", `{"url": "https://user:pass@example.com/hook"}`, admin},
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

// By default a webhook URL may not point at loopback, private or
// link-local addresses: the PUT is refused and nothing is stored.
func TestWebhookAddressPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.keys[parley.RoleAdmin]
	refused := []struct{ url, why string }{
		{"http://127.0.0.1/hook", "127.0.0.1 is a loopback address"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
		{"http://[::1]:8080/hook", "::1 is a loopback address"},
		{"http://10.1.2.3/hook", "10.1.2.3 is a private address"},
		{"http://localhost:8080/hook", `its host "localhost" resolves to`},
		{"https://nonexistent.invalid/hook", `its host "nonexistent.invalid"`},
	}
	put := func(url, why string) {
		t.Helper()
		status, body := e.do("PUT", "/v1/webhook", admin, `{"url": "`+url+`"}`)
		wantError(t, status, body, 400, "invalid")
		if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, why) {
			t.Fatalf("PUT %s: message %q, want it to say %q", url, msg, why)
		}
	}
	for _, tt := range refused {
		put(tt.url, tt.why)
	}
	status, body := e.do("GET", "/v1/webhook", admin, "")
	wantError(t, status, body, 404, "not_found")

	const public = "https://93.184.216.34/parley"
	if status, body := e.do("PUT", "/v1/webhook", admin, `{"url": "`+public+`"}`); status != 200 || body["url"] != public {
		t.Fatalf("put a public address: %d %v", status, body)
	}
	_, before := e.do("GET", "/v1/webhook", admin, "")
	for _, tt := range refused {
		put(tt.url, tt.why)
	}
	status, after := e.do("GET", "/v1/webhook", admin, "")
	if status != 200 || after["url"] != public || after["secret_prefix"] != before["secret_prefix"] || after["updated_at"] != before["updated_at"] {
		t.Fatalf("webhook after refused PUTs: %d %v, want it unchanged from %v", status, after, before)
	}
}
