package api

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ctxlog"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/visitor"
)

// Error codes of the widget channel; they exist only at the HTTP edge.
const (
	codeOriginNotAllowed = "origin_not_allowed"
	codeIdentityInvalid  = "identity_invalid"
	codeRateLimited      = "rate_limited"
)

const (
	visitorHeader = "X-Parley-Visitor"
	claimsKey     = "parley.visitor"
)

// widgetRoutes are the browser's: publishable widget keys, CORS, visitor
// tokens and rate limits (README "Put Parley on your site").
func (s *Server) widgetRoutes(r *gin.Engine) {
	r.OPTIONS("/v1/widget/*path", s.preflight)
	w := r.Group("/v1/widget", s.widgetAuth)
	w.POST("/session", s.widgetSession)
	v := w.Group("", s.withVisitor)
	v.POST("/messages", s.widgetMessage)
	v.GET("/conversations/:id/messages", s.widgetMessages)
	v.GET("/conversations/:id/events", s.widgetEvents)
	v.POST("/conversations/:id/feedback", func(c *gin.Context) { s.feedback(c, claims(c).VisitorID) })
	v.POST("/conversations/:id/handoff", func(c *gin.Context) { s.handoff(c, claims(c).VisitorID) })
}

// preflight answers CORS preflights. They carry no key, so an origin is
// allowed when a live widget key names it; the request itself is then
// checked against its own key's origins.
func (s *Server) preflight(c *gin.Context) {
	origin := c.GetHeader("Origin")
	ok, err := s.origins.allowed(c.Request.Context(), origin)
	if err != nil {
		fail(c, err)
		return
	}
	if !ok {
		fail(c, originRefused(origin))
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, "+visitorHeader)
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	c.AbortWithStatus(http.StatusNoContent)
}

func originRefused(origin string) error {
	if origin == "" {
		return &parley.Error{Code: codeOriginNotAllowed, Message: "the widget routes are for browsers: the request has no Origin header"}
	}
	return &parley.Error{Code: codeOriginNotAllowed, Message: "origin " + origin + " is not allowed for this widget key"}
}

// widgetAuth requires a publishable widget key (from the Authorization
// header, or ?key= on event streams, which EventSource cannot give
// headers) used from one of its origins, and the key's and the address's
// rate limits. Only then does the response carry CORS headers.
func (s *Server) widgetAuth(c *gin.Context) {
	secret := bearer(c)
	if secret == "" && c.Request.Method == http.MethodGet {
		secret = c.Query("key")
	}
	if secret == "" {
		fail(c, parley.Errorf(parley.EUnauthorized, "missing widget key: send Authorization: Bearer <key>"))
		return
	}
	p, err := s.store.Authenticate(c.Request.Context(), secret)
	if err != nil {
		fail(c, err)
		return
	}
	if !p.Publishable() {
		fail(c, parley.Errorf(parley.EForbidden, "the widget routes take a publishable widget key (role widget with allowed origins; POST /v1/widget-keys)"))
		return
	}
	origin := c.GetHeader("Origin")
	if origin == "" || !slices.Contains(p.AllowedOrigins, strings.ToLower(origin)) {
		fail(c, originRefused(origin))
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID")
	h.Add("Vary", "Origin")
	c.Set(principalKey, p)
	c.Request = c.Request.WithContext(ctxlog.With(c.Request.Context(), "workspace_id", p.Workspace.ID, "key_id", p.KeyID))
	if !s.limits.allow(c, s.limits.address, "address", c.ClientIP()) || !s.limits.allow(c, s.limits.key, "widget key", p.KeyID) {
		return
	}
	c.Next()
}

// bearer returns the key of an "Authorization: Bearer <key>" header, or "".
func bearer(c *gin.Context) string {
	scheme, secret, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(secret)
}

// withVisitor requires a valid visitor token (X-Parley-Visitor, or
// ?token= on event streams) and the visitor's rate limit.
func (s *Server) withVisitor(c *gin.Context) {
	token := c.GetHeader(visitorHeader)
	if token == "" && c.Request.Method == http.MethodGet {
		token = c.Query("token")
	}
	ws := principal(c).Workspace
	key, err := s.visitorKeys.get(c.Request.Context(), ws.ID)
	if err != nil {
		fail(c, err)
		return
	}
	cl, err := visitor.Verify(key, ws.ID, token, time.Now())
	if err != nil {
		fail(c, err)
		return
	}
	if !s.limits.allow(c, s.limits.visitor, "visitor", cl.VisitorID) {
		return
	}
	c.Set(claimsKey, cl)
	c.Next()
}

func claims(c *gin.Context) visitor.Claims {
	v, _ := c.Get(claimsKey)
	cl, _ := v.(visitor.Claims)
	return cl
}

type sessionRequest struct {
	VisitorToken string           `json:"visitor_token"`
	Customer     *parley.Customer `json:"customer"`
	UserHash     string           `json:"user_hash"`
}

type sessionResponse struct {
	VisitorToken   string                `json:"visitor_token"`
	VisitorID      string                `json:"visitor_id"`
	ExpiresAt      time.Time             `json:"expires_at"`
	ConversationID *string               `json:"conversation_id"`
	Settings       parley.PublicSettings `json:"settings"`
}

// widgetSession issues a visitor token: the visitor of a still valid old
// token, the verified customer's own visitor when the site signed the
// customer id, or a new anonymous visitor. A customer id without a valid
// signature is refused, never trusted.
func (s *Server) widgetSession(c *gin.Context) {
	var req sessionRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ctx, ws := c.Request.Context(), principal(c).Workspace
	key, err := s.visitorKeys.get(ctx, ws.ID)
	if err != nil {
		fail(c, err)
		return
	}
	var cust parley.Customer
	if req.Customer != nil {
		cust = parley.Customer{ID: req.Customer.ID, Name: req.Customer.Name, Email: req.Customer.Email, Language: req.Customer.Language}
		if err := checkCustomer(cust); err != nil {
			fail(c, err)
			return
		}
	}
	now := time.Now()
	old, oldErr := visitor.Verify(key, ws.ID, req.VisitorToken, now)
	cl := visitor.Claims{WorkspaceID: ws.ID, Customer: cust, ExpiresAt: now.Add(visitor.Lifetime).Unix()}
	switch {
	case cust.ID != "":
		secret, err := s.store.IdentitySecret(ctx, ws.ID)
		if err != nil {
			fail(c, err)
			return
		}
		if !visitor.CheckIdentity(secret, cust.ID, req.UserHash) {
			fail(c, &parley.Error{Code: codeIdentityInvalid, Message: "customer.id needs user_hash, the hex HMAC-SHA256 of the id with the workspace's identity secret"})
			return
		}
		cl.VisitorID, cl.Verified = visitor.CustomerID(key, cust.ID), true
	case oldErr == nil && !old.Verified:
		cl.VisitorID = old.VisitorID
	default: // no token, a bad one, or a signed-in customer's after sign-out
		if cl.VisitorID, err = visitor.NewID(); err != nil {
			fail(c, err)
			return
		}
	}
	token, err := visitor.Sign(key, cl)
	if err != nil {
		fail(c, err)
		return
	}
	resp := sessionResponse{VisitorToken: token, VisitorID: cl.VisitorID, ExpiresAt: cl.Expires(), Settings: ws.Public()}
	conv, err := s.store.LatestVisitorConversation(ctx, ws.ID, cl.VisitorID)
	if err != nil {
		fail(c, err)
		return
	}
	if conv != "" {
		resp.ConversationID = &conv
	}
	c.JSON(http.StatusOK, resp)
}

// checkCustomer bounds what a browser may say about its customer.
func checkCustomer(c parley.Customer) error {
	for _, f := range []struct {
		name, value string
		max         int
	}{{"customer.id", c.ID, 200}, {"customer.name", c.Name, 200}, {"customer.email", c.Email, 320}, {"customer.language", c.Language, 10}} {
		if len(f.value) > f.max {
			return parley.Errorf(parley.EInvalid, "%s is longer than %d bytes", f.name, f.max)
		}
	}
	return nil
}

type widgetMessageRequest struct {
	ConversationID string  `json:"conversation_id"`
	Text           *string `json:"text"`
	Language       string  `json:"language"`
}

// widgetAnswer is the engine's result, with action "queued" when the
// conversation is with a person and the bot stayed silent.
type widgetAnswer struct {
	reply.Result
	Action string `json:"action,omitempty"`
}

// widgetMessage takes a visitor's message: to one of its conversations,
// or to a new one (within the address's cap on new conversations).
func (s *Server) widgetMessage(c *gin.Context) {
	var req widgetMessageRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Text == nil {
		fail(c, parley.Errorf(parley.EInvalid, "text is required"))
		return
	}
	if err := reply.CheckText("text", strings.TrimSpace(*req.Text), reply.MaxMessageChars); err != nil {
		fail(c, err)
		return
	}
	cl := claims(c)
	cust := cl.Customer
	if req.Language != "" {
		cust.Language = req.Language
	}
	if err := checkCustomer(cust); err != nil {
		fail(c, err)
		return
	}
	ctx, ws := c.Request.Context(), principal(c).Workspace
	convID := req.ConversationID
	if convID == "" {
		if !s.limits.allow(c, s.limits.newConversations, "new conversations from address", c.ClientIP()) {
			return
		}
		conv, err := s.store.StartVisitorConversation(ctx, ws.ID, cl.VisitorID, cust, cust.Language)
		if err != nil {
			fail(c, err)
			return
		}
		convID = conv.ID
	}
	res, err := s.engine.Answer(ctx, reply.Request{
		Workspace: ws, ConversationID: convID, VisitorID: cl.VisitorID, Customer: cust, Channel: "widget", Text: *req.Text,
	})
	if err != nil {
		fail(c, err)
		return
	}
	s.countAnswer(res)
	out := widgetAnswer{Result: res}
	if res.Status == reply.StatusQueued {
		out.Action = "queued"
	}
	c.JSON(http.StatusOK, out)
}

// widgetMessageView is a message as the visitor sees it.
type widgetMessageView struct {
	ID        int64          `json:"id"`
	Role      string         `json:"role"`
	Text      string         `json:"text"`
	Sources   []widgetSource `json:"sources"`
	CreatedAt time.Time      `json:"created_at"`
	AgentName string         `json:"agent_name,omitempty"`
	Helpful   *bool          `json:"helpful,omitempty"`
}

type widgetSource struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Section string `json:"section,omitempty"`
}

func viewMessage(m parley.Message) widgetMessageView {
	var meta struct {
		Sources   []widgetSource `json:"sources"`
		AgentName string         `json:"agent_name"`
	}
	_ = json.Unmarshal(m.Meta, &meta) // a message without readable meta shows without sources
	v := widgetMessageView{ID: m.ID, Role: m.Role, Text: m.Text, Sources: meta.Sources, CreatedAt: m.CreatedAt, Helpful: m.Helpful}
	if v.Sources == nil {
		v.Sources = []widgetSource{}
	}
	if m.Role == parley.RoleHuman {
		v.AgentName = meta.AgentName
	}
	return v
}

// widgetPage is the most messages one read returns.
const widgetPage = 200

type widgetMessages struct {
	Messages []widgetMessageView `json:"messages"`
	State    string              `json:"state"`
	Cursor   string              `json:"cursor"`
}

// widgetMessages returns the visitor's conversation after ?after= (a
// message id), without internal notes.
func (s *Server) widgetMessages(c *gin.Context) {
	after, err := cursorParam(c.Query("after"))
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.visitorPage(c, after)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// visitorPage reads the visitor's conversation :id after a message id.
func (s *Server) visitorPage(c *gin.Context, after int64) (widgetMessages, error) {
	conv, err := s.store.VisitorConversation(c.Request.Context(), principal(c).Workspace.ID, claims(c).VisitorID, c.Param("id"), after, widgetPage)
	if err != nil {
		return widgetMessages{}, err
	}
	page := widgetMessages{Messages: make([]widgetMessageView, 0, len(conv.Messages)), State: conv.Status, Cursor: strconv.FormatInt(after, 10)}
	for _, m := range conv.Messages {
		page.Messages = append(page.Messages, viewMessage(m))
		page.Cursor = strconv.FormatInt(m.ID, 10)
	}
	return page, nil
}

// visitorConversation checks that conversation :id is the visitor's.
func (s *Server) visitorConversation(c *gin.Context, visitorID string) (parley.Conversation, error) {
	return s.store.VisitorConversation(c.Request.Context(), principal(c).Workspace.ID, visitorID, c.Param("id"), 0, 0)
}

func cursorParam(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, parley.Errorf(parley.EInvalid, "after must be a message id from a previous read, got %q", raw)
	}
	return n, nil
}

// keyCache holds the workspaces' visitor keys, which never change.
type keyCache struct {
	load func(ctx context.Context, workspaceID string) ([]byte, error)
	mu   sync.Mutex
	keys map[string][]byte
}

func (k *keyCache) get(ctx context.Context, workspaceID string) ([]byte, error) {
	k.mu.Lock()
	key, ok := k.keys[workspaceID]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := k.load(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.keys[workspaceID] = key
	k.mu.Unlock()
	return key, nil
}

// originCache remembers for a while whether an origin is some widget
// key's, so preflights do not each ask the database.
type originCache struct {
	lookup func(ctx context.Context, origin string) (bool, error)
	ttl    time.Duration
	mu     sync.Mutex
	seen   map[string]originEntry
}

type originEntry struct {
	ok    bool
	until time.Time
}

// maxOrigins bounds the cache; past it, it starts over.
const maxOrigins = 10000

func (o *originCache) allowed(ctx context.Context, origin string) (bool, error) {
	origin = strings.ToLower(origin)
	if origin == "" {
		return false, nil
	}
	now := time.Now()
	o.mu.Lock()
	e, ok := o.seen[origin]
	o.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.ok, nil
	}
	allowed, err := o.lookup(ctx, origin)
	if err != nil {
		return false, err
	}
	o.mu.Lock()
	if len(o.seen) >= maxOrigins {
		o.seen = map[string]originEntry{}
	}
	o.seen[origin] = originEntry{ok: allowed, until: now.Add(o.ttl)}
	o.mu.Unlock()
	return allowed, nil
}

// countAnswer records an engine result in the answer metrics.
func (s *Server) countAnswer(res reply.Result) {
	reason := ""
	if res.Escalation != nil {
		reason = res.Escalation.Reason
	}
	s.metrics.answers.WithLabelValues(cmp.Or(res.Status, "unknown"), reason).Inc()
}
