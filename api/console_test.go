package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// consoleUser is someone using the console: a cookie jar that does not follow redirects.
type consoleUser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string // the page's CSRF token, from the last page read
}

func newConsoleUser(t *testing.T, base string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &consoleUser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfInput = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)
)

// send makes a request with the jar's cookies, from the console's own origin
// unless headers say otherwise, and returns the status, Location and body.
func (b *consoleUser) send(method, path string, body io.Reader, headers map[string]string) (int, string, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if method != "GET" {
		req.Header.Set("Origin", b.base)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	page := string(raw)
	for _, re := range []*regexp.Regexp{csrfMeta, csrfInput} {
		if m := re.FindStringSubmatch(page); m != nil && m[1] != "" {
			b.csrf = html.UnescapeString(m[1])
			break
		}
	}
	return res.StatusCode, res.Header.Get("Location"), page
}

func (b *consoleUser) get(path string) (int, string, string) { return b.send("GET", path, nil, nil) }

// postForm posts a form with the page's CSRF token (unless form sets csrf).
func (b *consoleUser) postForm(path string, form url.Values, headers map[string]string) (int, string, string) {
	b.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range headers {
		h[k] = v
	}
	return b.send("POST", path, strings.NewReader(form.Encode()), h)
}

// signIn opens the sign-in page and posts key; it returns the status,
// Location and page of the answer.
func (b *consoleUser) signIn(key string) (int, string, string) {
	b.t.Helper()
	if status, _, _ := b.get("/app/login"); status != 200 {
		b.t.Fatalf("sign-in page: %d", status)
	}
	return b.postForm("/app/login", url.Values{"key": {key}}, nil)
}

// mustSignIn signs in and opens the inbox, which gives the page's CSRF token.
func (b *consoleUser) mustSignIn(key string) {
	b.t.Helper()
	status, loc, page := b.signIn(key)
	if status != http.StatusSeeOther || loc != "/app/inbox" {
		b.t.Fatalf("sign in: %d to %q: %s", status, loc, page)
	}
	if status, _, page := b.get("/app/inbox"); status != 200 {
		b.t.Fatalf("inbox after sign-in: %d %s", status, page)
	}
}

// api calls the console API with the page's CSRF token (unless headers
// override it) and returns the status and the decoded JSON.
func (b *consoleUser) api(method, path, body string, headers map[string]string) (int, map[string]any) {
	b.t.Helper()
	h := map[string]string{"X-CSRF-Token": b.csrf, "Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	status, _, raw := b.send(method, "/app/api/v1"+path, strings.NewReader(body), h)
	var out map[string]any
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			b.t.Fatalf("%s %s: %d, not JSON: %s", method, path, status, raw)
		}
	}
	return status, out
}

func sessionCookieOf(b *consoleUser) *http.Cookie {
	u, _ := url.Parse(b.base + "/app/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "parley_session" {
			return c
		}
	}
	return nil
}

func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("admin", func(t *testing.T) {
		b := newConsoleUser(t, e.srv.URL)
		status, loc, _ := b.signIn(e.keys[parley.RoleAdmin])
		if status != http.StatusSeeOther || loc != "/app/inbox" {
			t.Fatalf("sign in: %d to %q", status, loc)
		}
		if sessionCookieOf(b) == nil {
			t.Fatal("no session cookie")
		}
		status, _, page := b.get("/app/inbox")
		if status != 200 || !strings.Contains(page, `href="/app/knowledge"`) || !strings.Contains(page, `href="/app/analytics"`) {
			t.Fatalf("inbox: %d, want the admin's navigation: %s", status, page)
		}
		if strings.Contains(page, e.keys[parley.RoleAdmin]) {
			t.Fatal("the page shows the key")
		}
		if status, _, _ := b.get("/app/knowledge"); status != 200 {
			t.Fatalf("knowledge page: %d", status)
		}
		if status, body := b.api("GET", "/knowledge-bases", "", nil); status != 200 {
			t.Fatalf("console API: %d %v", status, body)
		}
	})

	t.Run("cookie", func(t *testing.T) {
		res := signInResponse(t, newConsoleUser(t, e.srv.URL), e.keys[parley.RoleAgent], nil)
		set := res.Header.Values("Set-Cookie")
		var session string
		for _, c := range set {
			if strings.HasPrefix(c, "parley_session=") {
				session = c
			}
		}
		for _, want := range []string{"Path=/app", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(session, want) {
				t.Errorf("session cookie %q lacks %s", session, want)
			}
		}
		if strings.Contains(session, "Secure") {
			t.Errorf("session cookie %q is Secure on plain HTTP", session)
		}
	})

	t.Run("secure cookie over TLS", func(t *testing.T) {
		tls := httptest.NewTLSServer(e.server)
		t.Cleanup(tls.Close)
		b := newConsoleUser(t, tls.URL)
		b.c.Transport = tls.Client().Transport
		if c := sessionCookieIn(signInResponse(t, b, e.keys[parley.RoleAdmin], nil)); c == nil || !c.Secure {
			t.Errorf("session cookie over TLS: %+v, want Secure", c)
		}
		// X-Forwarded-Proto counts only from a trusted proxy; this test's client is none.
		b = newConsoleUser(t, e.srv.URL)
		if c := sessionCookieIn(signInResponse(t, b, e.keys[parley.RoleAdmin], map[string]string{"X-Forwarded-Proto": "https"})); c == nil || c.Secure {
			t.Errorf("session cookie with an untrusted X-Forwarded-Proto: %+v, want not Secure", c)
		}
		proxied := newEnvWith(t, func(o *api.Options) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
		b = newConsoleUser(t, proxied.srv.URL)
		if c := sessionCookieIn(signInResponse(t, b, proxied.keys[parley.RoleAdmin], map[string]string{"X-Forwarded-Proto": "https"})); c == nil || !c.Secure {
			t.Errorf("session cookie behind a trusted TLS proxy: %+v, want Secure", c)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		b := newConsoleUser(t, e.srv.URL)
		status, _, page := b.signIn("prly_not-a-key-at-all")
		if status != http.StatusUnauthorized || !strings.Contains(page, "not valid") || sessionCookieOf(b) != nil {
			t.Fatalf("wrong key: %d, cookie %v: %s", status, sessionCookieOf(b), page)
		}
	})

	t.Run("widget key", func(t *testing.T) {
		b := newConsoleUser(t, e.srv.URL)
		status, _, page := b.signIn(e.keys[parley.RoleWidget])
		if status != http.StatusForbidden || !strings.Contains(page, "Widget keys cannot sign in") || sessionCookieOf(b) != nil {
			t.Fatalf("widget key: %d, cookie %v: %s", status, sessionCookieOf(b), page)
		}
		if status, loc, _ := b.get("/app/inbox"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/login") {
			t.Fatalf("inbox with a widget key's attempt: %d %q, want the sign-in page", status, loc)
		}
	})

	t.Run("sign-in form from elsewhere", func(t *testing.T) {
		// A form on another site posting a key (login CSRF): no token, or
		// another origin, is refused.
		b := newConsoleUser(t, e.srv.URL)
		status, _, _ := b.postForm("/app/login", url.Values{"key": {e.keys[parley.RoleAdmin]}, "csrf": {"guess"}}, nil)
		if status != http.StatusForbidden || sessionCookieOf(b) != nil {
			t.Fatalf("without the form's token: %d", status)
		}
		b.get("/app/login")
		status, _, _ = b.postForm("/app/login", url.Values{"key": {e.keys[parley.RoleAdmin]}}, map[string]string{"Origin": "https://evil.example"})
		if status != http.StatusForbidden || sessionCookieOf(b) != nil {
			t.Fatalf("from another origin: %d", status)
		}
	})

	t.Run("not signed in", func(t *testing.T) {
		b := newConsoleUser(t, e.srv.URL)
		if status, loc, _ := b.get("/app/analytics"); status != http.StatusSeeOther || loc != "/app/login?next=%2Fapp%2Fanalytics" {
			t.Fatalf("page: %d %q", status, loc)
		}
		status, body := b.api("GET", "/knowledge-bases", "", nil)
		wantError(t, status, body, 401, "unauthorized")
		// A bearer key does not open the console API: it takes sessions only.
		status, body = b.api("GET", "/knowledge-bases", "", map[string]string{"Authorization": "Bearer " + e.keys[parley.RoleAdmin]})
		wantError(t, status, body, 401, "unauthorized")
	})

	t.Run("next", func(t *testing.T) {
		for next, want := range map[string]string{
			"/app/analytics":        "/app/analytics",
			"https://evil.example/": "/app/inbox",
			"//evil.example/app/":   "/app/inbox",
		} {
			b := newConsoleUser(t, e.srv.URL)
			b.get("/app/login")
			status, loc, _ := b.postForm("/app/login", url.Values{"key": {e.keys[parley.RoleAdmin]}, "next": {next}}, nil)
			if status != http.StatusSeeOther || loc != want {
				t.Errorf("next %q: %d to %q, want %q", next, status, loc, want)
			}
		}
	})
}

// signInResponse signs b in with key, sending headers with the form, and
// returns the sign-in response.
func signInResponse(t *testing.T, b *consoleUser, key string, headers map[string]string) *http.Response {
	t.Helper()
	b.get("/app/login")
	req, _ := http.NewRequest("POST", b.base+"/app/login", strings.NewReader(url.Values{"key": {key}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	return res
}

func sessionCookieIn(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == "parley_session" {
			return c
		}
	}
	return nil
}

func TestConsoleSignInThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newConsoleUser(t, e.srv.URL)
	b.get("/app/login")
	var status int
	var page string
	for i := 0; i < 40 && status != http.StatusTooManyRequests; i++ {
		status, _, page = b.postForm("/app/login", url.Values{"key": {fmt.Sprintf("prly_%06dwrong", i)}}, nil)
	}
	if status != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed attempts") {
		t.Fatalf("after many wrong keys: %d: %s", status, page)
	}
	// Even the right key waits now, without being looked up.
	status, _, _ = b.postForm("/app/login", url.Values{"key": {e.keys[parley.RoleAdmin]}}, nil)
	if status != http.StatusTooManyRequests {
		t.Fatalf("right key while throttled: %d", status)
	}
}

// The expiry tests hold for any server speed: a request refused is a
// failure only if, by the time its answer came, the session could not yet
// have been idle (or old) enough; one allowed is one only if it started
// after the session must have ended.

func TestConsoleSessionExpiry(t *testing.T) {
	t.Parallel()
	for name, lim := range map[string]parley.SessionLimits{
		"idle": {Idle: 2 * time.Second, Max: time.Hour},
		"max":  {Idle: time.Hour, Max: 3 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, func(o *api.Options) { o.Console.Sessions = lim })
			b := newConsoleUser(t, e.srv.URL)
			signedIn := time.Now()
			b.mustSignIn(e.keys[parley.RoleAdmin])
			lastUse := time.Now() // the inbox opened by mustSignIn ended by then
			if name == "max" {
				// Use keeps an idle session alive, not an old one.
				for time.Since(signedIn) < lim.Max/2 {
					time.Sleep(300 * time.Millisecond)
					status, _ := b.api("GET", "/knowledge-bases", "", nil)
					if status != 200 && time.Since(signedIn) < lim.Max {
						t.Fatalf("session ended %v after sign-in, before its %v: %d", time.Since(signedIn), lim.Max, status)
					}
					lastUse = time.Now()
				}
			}
			until := lastUse.Add(lim.Idle)
			if name == "max" {
				until = signedIn.Add(lim.Max)
			}
			time.Sleep(time.Until(until) + 200*time.Millisecond)
			status, body := b.api("GET", "/knowledge-bases", "", nil)
			wantError(t, status, body, 401, "unauthorized")
			if status, loc, _ := b.get("/app/inbox"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/login") {
				t.Fatalf("page after expiry: %d %q", status, loc)
			}
		})
	}
}

func TestConsoleIdleSessionKeptAliveByUse(t *testing.T) {
	t.Parallel()
	idle := 2 * time.Second
	e := newEnvWith(t, func(o *api.Options) { o.Console.Sessions = parley.SessionLimits{Idle: idle, Max: time.Hour} })
	b := newConsoleUser(t, e.srv.URL)
	prev := time.Now() // each request touches the session after it starts
	b.mustSignIn(e.keys[parley.RoleAgent])
	for start := time.Now(); time.Since(start) < 2*idle; {
		time.Sleep(idle / 3)
		next := time.Now()
		if status, _, _ := b.get("/app/inbox"); status != 200 {
			if gap := time.Since(prev); gap < idle {
				t.Fatalf("session in use ended after at most %v idle: %d", gap, status)
			}
			t.Skipf("the machine is too slow to keep requests within %v of each other", idle)
		}
		prev = next
	}
}

func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(e.keys[parley.RoleAdmin])
	good := b.csrf
	for name, h := range map[string]map[string]string{
		"missing":       {"X-CSRF-Token": ""},
		"wrong":         {"X-CSRF-Token": good[:len(good)-2] + "xx"},
		"other origin":  {"Origin": "https://evil.example"},
		"other referer": {"Origin": "", "Referer": "https://evil.example/page"},
	} {
		status, body := b.api("POST", "/knowledge-bases", `{"name": "faq"}`, h)
		if status != 403 {
			t.Errorf("%s: %d %v, want 403", name, status, body)
			continue
		}
		wantError(t, status, body, 403, "forbidden")
	}
	if status, body := b.api("GET", "/knowledge-bases", "", map[string]string{"X-CSRF-Token": ""}); status != 200 || len(body["knowledge_bases"].([]any)) != 0 {
		t.Fatalf("nothing may have been created: %d %v", status, body)
	}
	if status, body := b.api("POST", "/knowledge-bases", `{"name": "faq"}`, nil); status != 201 {
		t.Fatalf("with the token: %d %v", status, body)
	}
	// Signing out is state-changing too.
	if status, _, page := b.postForm("/app/logout", url.Values{"csrf": {"nope"}}, nil); status != 403 || !strings.Contains(page, "Request refused") {
		t.Fatalf("sign out without the token: %d %s", status, page)
	}
	if status, _ := b.api("GET", "/knowledge-bases", "", nil); status != 200 {
		t.Fatalf("the session must still be there: %d", status)
	}
}

func TestConsoleAgentRefusedAdminPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(e.keys[parley.RoleAgent])
	status, _, page := b.get("/app/inbox")
	if status != 200 || strings.Contains(page, `href="/app/knowledge"`) || strings.Contains(page, `href="/app/analytics"`) {
		t.Fatalf("an agent's navigation shows admin pages: %s", page)
	}
	for _, path := range []string{"/app/knowledge", "/app/knowledge/faq", "/app/knowledge/faq/sources/1", "/app/analytics"} {
		if status, _, page := b.get(path); status != 403 || !strings.Contains(page, "needs an admin key") {
			t.Errorf("%s as an agent: %d", path, status)
		}
	}
	for _, path := range []string{"/knowledge-bases", "/analytics/summary"} {
		status, body := b.api("GET", path, "", nil)
		wantError(t, status, body, 403, "forbidden")
	}
	if status, body := b.api("GET", "/escalations", "", nil); status != 200 {
		t.Fatalf("agent route: %d %v", status, body)
	}
}

func TestConsoleOtherWorkspaceUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := pgtest.DB(t)
	other := pgtest.Workspace(t)
	_, otherKey, err := db.CreateKey(context.Background(), other.ID, "other", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	status, secret := e.do("POST", "/v1/knowledge-bases", otherKey, `{"name": "secret"}`)
	if status != 201 {
		t.Fatalf("other workspace's knowledge base: %d %v", status, secret)
	}
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(e.keys[parley.RoleAdmin])
	status, body := b.api("GET", "/knowledge-bases/secret", "", nil)
	wantError(t, status, body, 404, "not_found")
	status, body = b.api("DELETE", "/knowledge-bases/secret", "", nil)
	wantError(t, status, body, 404, "not_found")
	if status, body := b.api("GET", "/knowledge-bases", "", nil); status != 200 || len(body["knowledge_bases"].([]any)) != 0 {
		t.Fatalf("list: %d %v", status, body)
	}
	if status, body := e.do("GET", "/v1/knowledge-bases/secret", otherKey, ""); status != 200 {
		t.Fatalf("the other workspace's knowledge base must be untouched: %d %v", status, body)
	}
	for _, path := range []string{"/app/knowledge/secret", "/app/knowledge/" + secret["id"].(string), "/app/knowledge/" + secret["id"].(string) + "/sources/1"} {
		if status, _, page := b.get(path); status != 404 || !strings.Contains(page, "<h1>Not found</h1>") {
			t.Errorf("%s: %d, want the 404 page", path, status)
		}
	}
	if _, _, page := b.get("/app/knowledge"); strings.Contains(page, "secret") {
		t.Error("the knowledge page lists another workspace's knowledge base")
	}
	if _, _, page := b.get("/app/inbox"); !strings.Contains(page, e.ws.Name) || strings.Contains(page, other.Name) {
		t.Fatalf("the page must name the session's workspace only")
	}
}

func TestConsoleLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(e.keys[parley.RoleAdmin])
	old := *sessionCookieOf(b)
	status, loc, _ := b.postForm("/app/logout", url.Values{}, nil)
	if status != http.StatusSeeOther || loc != "/app/login" || sessionCookieOf(b) != nil {
		t.Fatalf("sign out: %d %q, cookie %v", status, loc, sessionCookieOf(b))
	}
	// The old token is dead on the server, not only forgotten by the consoleUser.
	replay := newConsoleUser(t, e.srv.URL)
	u, _ := url.Parse(e.srv.URL + "/app/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/app"}})
	status, body := replay.api("GET", "/knowledge-bases", "", nil)
	wantError(t, status, body, 401, "unauthorized")
}

func TestConsoleRevokedKeyEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := pgtest.DB(t)
	k, secret, err := db.CreateKey(context.Background(), e.ws.ID, "revoke-me", parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(secret)
	if _, err := db.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	status, body := b.api("GET", "/knowledge-bases", "", nil)
	wantError(t, status, body, 401, "unauthorized")
}

func TestConsoleLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newConsoleUser(t, e.srv.URL)
	b.mustSignIn(e.keys[parley.RoleAdmin])
	_, _, page := b.send("GET", "/app/inbox", nil, map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
	if !strings.Contains(page, `<html lang="de">`) || !strings.Contains(page, ">Posteingang<") || !strings.Contains(page, ">Abmelden<") {
		t.Fatalf("German from Accept-Language: %s", page)
	}
	// The switch wins over the consoleUser's languages, and is remembered.
	b.get("/app/inbox?lang=en")
	_, _, page = b.send("GET", "/app/knowledge", nil, map[string]string{"Accept-Language": "de"})
	if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, ">Sign out<") {
		t.Fatalf("English from the switch: %s", page)
	}
}
