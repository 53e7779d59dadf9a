package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ctxlog"
)

// authenticate requires a valid bearer key and puts its principal on the
// context. Clients that fail too often are throttled (see authThrottle).
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		fail(c, parley.Errorf(parley.EUnauthorized, "missing API key: send Authorization: Bearer <key>"))
		return
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		fail(c, parley.Errorf(parley.EUnauthorized, "Authorization header must be: Bearer <key>"))
		return
	}
	secret, addr := strings.TrimSpace(secret), c.ClientIP()
	if !s.throttle.allow(c, addr, secret) {
		return
	}
	p, err := s.store.Authenticate(c.Request.Context(), secret)
	if err != nil {
		if parley.ErrorCode(err) == parley.EUnauthorized {
			s.throttle.failed(addr, secret)
		}
		fail(c, err)
		return
	}
	// A publishable key is on web pages for anyone to copy: it reaches
	// conversations only through the widget routes, as a visitor.
	if p.Publishable() && c.FullPath() != "/v1/workspace" {
		fail(c, parley.Errorf(parley.EForbidden, "a publishable widget key (one with allowed origins) only serves the /v1/widget routes"))
		return
	}
	c.Set(principalKey, p)
	c.Request = c.Request.WithContext(ctxlog.With(c.Request.Context(), "workspace_id", p.Workspace.ID, "key_id", p.KeyID))
	c.Next()
}

// require lets through keys whose role is at least need.
func require(need parley.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		if !p.Role.Allows(need) {
			fail(c, parley.Errorf(parley.EForbidden, "this endpoint needs a key with role %s; yours is %s", need, p.Role))
			return
		}
		c.Next()
	}
}

// principal returns the authenticated caller; only valid behind authenticate.
func principal(c *gin.Context) parley.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(parley.Principal)
	return pr
}
