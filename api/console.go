package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ctxlog"
	"github.com/parleyhq/parley/web"
)

// The console (/app): server-rendered pages for agents and admins.
//
// Signing in exchanges an agent or admin key for a session: a random token
// in an HttpOnly, SameSite=Strict cookie scoped to /app (Secure over TLS),
// of which the database keeps only a SHA-256 hash. The key is sent once, in
// the sign-in form, and kept nowhere in the browser. Every state-changing
// request under /app must come from the console's own origin (Origin, else
// Referer, when the browser sends one) and carry the session's CSRF token
// (form field "csrf" or header X-CSRF-Token): a hash of the session token
// under another label, so it is fixed for the session, never stored, and
// cannot be computed without the cookie.
//
// The pages' scripts call the /v1 API at /app/api/v1/...: the same
// handlers and role checks, with the session's workspace and role in place
// of a bearer key (see consoleAPIAuth).

const (
	sessionCookie = "parley_session"
	loginCookie   = "parley_login"
	langCookie    = "parley_lang"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
	// consoleAPI prefixes the /v1 routes the console's scripts call.
	consoleAPI = "/app/api"
)

// consolePage is one page of the console: its path under /app/ (a gin
// pattern), its template in web/console/templates, the message key of its
// title (and navigation label, for pages in the navigation), the role it
// needs (pages the key's role does not allow are left out of the
// navigation and answered 403), and what it shows (load; nil: nothing).
type consolePage struct {
	path, template, title string
	nav                   bool
	need                  parley.Role
	load                  func(*Server, *gin.Context) (any, error)
}

var consolePages = []consolePage{
	{path: "inbox", template: "inbox", title: "nav.inbox", nav: true, need: parley.RoleAgent},
	{path: "knowledge", template: "knowledge", title: "nav.knowledge", nav: true, need: parley.RoleAdmin, load: (*Server).knowledgeData},
	{path: "knowledge/:kb", template: "kb", title: "nav.knowledge", need: parley.RoleAdmin, load: (*Server).kbData},
	{path: "knowledge/:kb/sources/:source", template: "source", title: "nav.knowledge", need: parley.RoleAdmin, load: (*Server).sourceData},
	{path: "analytics", template: "analytics", title: "nav.analytics", nav: true, need: parley.RoleAdmin, load: (*Server).analyticsData},
	{path: "analytics/evals/:id", template: "evalrun", title: "nav.analytics", need: parley.RoleAdmin, load: (*Server).evalRunData},
}

// ConsoleOptions configure the console.
type ConsoleOptions struct {
	// Sessions end after Sessions.Idle without a request or Sessions.Max
	// after sign-in (zero fields: parley.DefaultSessionIdle and
	// parley.DefaultSessionMax).
	Sessions parley.SessionLimits
}

func (o ConsoleOptions) limits() parley.SessionLimits { return o.Sessions.WithDefaults() }

// consoleRoutes mounts the console's pages, assets and API.
func (s *Server) consoleRoutes(r *gin.Engine) {
	app := r.Group("/app", consoleHeaders)
	app.GET("", redirectTo("/app/"))
	app.GET("/", s.consolePageAuth, func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/app/inbox") })
	app.GET("/static/:file", consoleStatic)
	app.GET("/login", s.loginPage)
	app.POST("/login", s.login)
	app.POST("/logout", s.consolePageAuth, s.consoleCSRF, s.logout)
	for _, p := range consolePages {
		app.GET("/"+p.path, s.consolePageAuth, s.showPage(p))
	}
	s.v1Routes(r.Group(consoleAPI+"/v1", consoleAPIHeaders, s.consoleAPIAuth, s.consoleCSRF))
}

func redirectTo(path string) gin.HandlerFunc {
	return func(c *gin.Context) { c.Redirect(http.StatusSeeOther, path) }
}

// consoleHeaders keep console pages out of frames and caches and allow
// only the console's own scripts and styles.
func consoleHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

func consoleAPIHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

func consoleStatic(c *gin.Context) {
	h, ok := web.ConsoleStatic(c.Param("file"))
	if !ok {
		fail(c, parley.Errorf(parley.ENotFound, "no console file %q", c.Param("file")))
		return
	}
	c.Writer.Header().Del("Cache-Control")
	h.ServeHTTP(c.Writer, c.Request)
}

// sessionToken makes a new session token.
func sessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the database keeps of a session token.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte("parley console session\x00" + token))
	return sum[:]
}

// csrfToken is the session's CSRF token.
func csrfToken(token string) string {
	sum := sha256.Sum256([]byte("parley console csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

const (
	sessionTokenKey = "parley.console_token"
	langKey         = "parley.console_lang"
)

// session looks up the request's session cookie: the principal and token,
// or EUnauthorized.
func (s *Server) session(c *gin.Context) (parley.Principal, string, error) {
	ck, err := c.Request.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return parley.Principal{}, "", parley.Errorf(parley.EUnauthorized, "not signed in to the console")
	}
	p, err := s.store.Session(c.Request.Context(), hashToken(ck.Value), s.opts.Console.limits())
	return p, ck.Value, err
}

func (s *Server) setPrincipal(c *gin.Context, p parley.Principal, token string) {
	c.Set(principalKey, p)
	c.Set(sessionTokenKey, token)
	c.Request = c.Request.WithContext(ctxlog.With(c.Request.Context(), "workspace_id", p.Workspace.ID, "key_id", p.KeyID))
}

// consolePageAuth lets signed-in agents and admins through to a page and
// sends everyone else to the sign-in page.
func (s *Server) consolePageAuth(c *gin.Context) {
	p, token, err := s.session(c)
	if err != nil {
		if parley.ErrorCode(err) != parley.EUnauthorized {
			s.consoleError(c, err)
			return
		}
		next := c.Request.URL.Path
		clearCookie(c, sessionCookie, "/app")
		c.Redirect(http.StatusSeeOther, "/app/login?next="+url.QueryEscape(next))
		c.Abort()
		return
	}
	s.setPrincipal(c, p, token)
	c.Next()
}

// consoleAPIAuth authenticates the console's API calls by their session
// cookie, in place of authenticate's bearer key: 401 JSON without one.
func (s *Server) consoleAPIAuth(c *gin.Context) {
	p, token, err := s.session(c)
	if err != nil {
		fail(c, err)
		return
	}
	s.setPrincipal(c, p, token)
	c.Next()
}

// consoleCSRF refuses a state-changing request (any method but GET, HEAD
// and OPTIONS) from another origin or without the session's CSRF token: 403.
func (s *Server) consoleCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	token := c.GetString(sessionTokenKey)
	isAPI := strings.HasPrefix(c.Request.URL.Path, consoleAPI+"/")
	sent := c.GetHeader(csrfHeader)
	if sent == "" && !isAPI {
		sent = c.PostForm(csrfField)
	}
	if !sameOrigin(c.Request) || !equalTokens(sent, csrfToken(token)) {
		if isAPI {
			fail(c, parley.Errorf(parley.EForbidden, "missing or wrong CSRF token, or a request from another origin: send the page's token in the %s header", csrfHeader))
			return
		}
		s.renderMessage(c, http.StatusForbidden, "csrf.title", "csrf.text")
		return
	}
	c.Next()
}

// sameOrigin reports whether a browser's request comes from a page of this
// server: its Origin (or, without one, its Referer) names this host. A
// request with neither is not from a browser's cross-site form or script,
// and is let through to the token check.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// secure reports whether the browser reached the server over TLS: directly,
// or through a trusted proxy that says so in X-Forwarded-Proto.
func (s *Server) secure(c *gin.Context) bool {
	if c.Request.TLS != nil {
		return true
	}
	if !strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
		return false
	}
	peer, err := netip.ParseAddr(c.RemoteIP())
	if err != nil {
		return false
	}
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(peer.Unmap()) {
			return true
		}
	}
	return false
}

func (s *Server) setCookie(c *gin.Context, name, value, path string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.secure(c), SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(c *gin.Context, name, path string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// language is the page language: ?lang= (then remembered in a cookie),
// else the cookie, else Accept-Language.
func (s *Server) language(c *gin.Context) string {
	if l := c.GetString(langKey); l != "" {
		return l
	}
	choice := c.Query("lang")
	if choice != "" {
		if l := web.ConsoleLanguage(choice, ""); l == choice {
			s.setCookie(c, langCookie, l, "/app", 365*24*time.Hour)
		}
	} else if ck, err := c.Request.Cookie(langCookie); err == nil {
		choice = ck.Value
	}
	l := web.ConsoleLanguage(choice, c.GetHeader("Accept-Language"))
	c.Set(langKey, l)
	return l
}

// page is a console page's frame for the signed-in principal.
func (s *Server) page(c *gin.Context, title string) web.ConsolePage {
	pg := web.ConsolePage{Lang: s.language(c), Title: title, Path: c.Request.URL.Path}
	if token := c.GetString(sessionTokenKey); token != "" {
		p := principal(c)
		pg.CSRF = csrfToken(token)
		pg.User = &web.ConsoleUser{Workspace: p.Workspace.Name, Role: string(p.Role)}
		for _, cp := range consolePages {
			if cp.nav && p.Role.Allows(cp.need) {
				href := "/app/" + cp.path
				pg.Nav = append(pg.Nav, web.NavItem{Href: href, Label: cp.title, Active: strings.HasPrefix(pg.Path+"/", href+"/")})
			}
		}
	}
	return pg
}

// render writes a console page with the status.
func (s *Server) render(c *gin.Context, status int, template string, pg web.ConsolePage) {
	var buf bytes.Buffer
	if err := web.RenderConsole(&buf, template, pg); err != nil {
		s.consoleError(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// renderMessage writes a page saying one thing: its title and text are
// message keys.
func (s *Server) renderMessage(c *gin.Context, status int, title, text string) {
	pg := s.page(c, title)
	pg.Data = text
	s.render(c, status, "message", pg)
}

// consoleError answers a failed page request: logged like API errors,
// shown as a short plain page.
func (s *Server) consoleError(c *gin.Context, err error) {
	if parley.ErrorCode(err) == parley.EInternal {
		logger(c).ErrorContext(c.Request.Context(), "console request failed", "err", err.Error())
	}
	status, ok := statusOf[parley.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	c.Data(status, "text/plain; charset=utf-8", []byte(http.StatusText(status)))
	c.Abort()
}

// showPage renders a page for a principal whose role allows it.
func (s *Server) showPage(cp consolePage) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Role.Allows(cp.need) {
			s.renderMessage(c, http.StatusForbidden, "forbidden.title", "forbidden.admin")
			return
		}
		pg := s.page(c, cp.title)
		if cp.load != nil {
			data, err := cp.load(s, c)
			if parley.ErrorCode(err) == parley.ENotFound || parley.ErrorCode(err) == parley.EInvalid {
				s.renderMessage(c, http.StatusNotFound, "notfound.title", "notfound.text")
				return
			}
			if err != nil {
				s.consoleError(c, err)
				return
			}
			pg.Data = data
		}
		s.render(c, http.StatusOK, cp.template, pg)
	}
}

// safeNext is where to go after signing in: a console path, never another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/app/") && !strings.HasPrefix(next, "/app/login") && !strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, "//") {
		return next
	}
	return "/app/inbox"
}

// loginPage shows the sign-in form, with a fresh token in a cookie of its
// own that the form must send back (the session's CSRF token does not
// exist yet).
func (s *Server) loginPage(c *gin.Context) {
	s.showLogin(c, http.StatusOK, "", nil)
}

func (s *Server) showLogin(c *gin.Context, status int, errKey string, args []any) {
	token := sessionToken()
	s.setCookie(c, loginCookie, token, "/app/login", time.Hour)
	pg := s.page(c, "login.title")
	pg.CSRF, pg.Data = token, safeNext(c.Query("next"))
	if c.Request.Method == http.MethodPost {
		pg.Data = safeNext(c.PostForm("next"))
	}
	pg.Error, pg.ErrorArgs = errKey, args
	s.render(c, status, "login", pg)
}

// login exchanges an agent or admin key for a session. Failed keys count
// against the same throttle as the API's bearer keys.
func (s *Server) login(c *gin.Context) {
	ck, err := c.Request.Cookie(loginCookie)
	if !sameOrigin(c.Request) || err != nil || !equalTokens(c.PostForm(csrfField), ck.Value) {
		s.showLogin(c, http.StatusForbidden, "login.err.csrf", nil)
		return
	}
	key, addr := strings.TrimSpace(c.PostForm("key")), c.ClientIP()
	if key == "" {
		s.showLogin(c, http.StatusBadRequest, "login.err.empty", nil)
		return
	}
	if wait := s.throttle.wait(addr, key); wait > 0 {
		c.Header("Retry-After", retryAfter(wait))
		s.showLogin(c, http.StatusTooManyRequests, "login.err.throttled", []any{retrySeconds(wait)})
		return
	}
	p, err := s.store.Authenticate(c.Request.Context(), key)
	switch {
	case parley.ErrorCode(err) == parley.EUnauthorized:
		s.throttle.failed(addr, key)
		s.showLogin(c, http.StatusUnauthorized, "login.err.invalid", nil)
		return
	case err != nil:
		logger(c).ErrorContext(c.Request.Context(), "console sign-in failed", "err", err.Error())
		s.showLogin(c, http.StatusServiceUnavailable, "login.err.failed", nil)
		return
	case !p.Role.Allows(parley.RoleAgent):
		s.showLogin(c, http.StatusForbidden, "login.err.widget", nil)
		return
	}
	token := sessionToken()
	if err := s.store.CreateSession(c.Request.Context(), hashToken(token), p, s.opts.Console.limits()); err != nil {
		logger(c).ErrorContext(c.Request.Context(), "console sign-in failed", "err", err.Error())
		s.showLogin(c, http.StatusServiceUnavailable, "login.err.failed", nil)
		return
	}
	clearCookie(c, loginCookie, "/app/login")
	// The cookie lives as long as the session can; the server ends it sooner when idle.
	s.setCookie(c, sessionCookie, token, "/app", s.opts.Console.limits().Max)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

// logout ends the session (consoleCSRF has checked the request).
func (s *Server) logout(c *gin.Context) {
	if err := s.store.DeleteSession(c.Request.Context(), hashToken(c.GetString(sessionTokenKey))); err != nil {
		s.consoleError(c, err)
		return
	}
	clearCookie(c, sessionCookie, "/app")
	c.Redirect(http.StatusSeeOther, "/app/login")
}
