package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

type workspaceResponse struct {
	parley.Workspace
	Role parley.Role `json:"role"`
}

// publicWorkspace is what a widget key reads of its workspace.
type publicWorkspace struct {
	ID       string                `json:"id"`
	Name     string                `json:"name"`
	Role     parley.Role           `json:"role"`
	Settings parley.PublicSettings `json:"settings"`
}

// getWorkspace tells the caller which workspace its key belongs to; a
// widget key sees only the public settings.
func (s *Server) getWorkspace(c *gin.Context) {
	p := principal(c)
	if p.Role == parley.RoleWidget {
		c.JSON(http.StatusOK, publicWorkspace{ID: p.Workspace.ID, Name: p.Workspace.Name, Role: p.Role, Settings: p.Workspace.Public()})
		return
	}
	c.JSON(http.StatusOK, workspaceResponse{Workspace: p.Workspace, Role: p.Role})
}

type widgetKeyRequest struct {
	Name           string   `json:"name"`
	AllowedOrigins []string `json:"allowed_origins"`
}

// createWidgetKey makes a publishable widget key; the response holds its
// secret, shown once.
func (s *Server) createWidgetKey(c *gin.Context) {
	var req widgetKeyRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if len(req.AllowedOrigins) == 0 {
		fail(c, parley.Errorf(parley.EInvalid, "allowed_origins must name the web origins (like https://shop.example) that may use the key"))
		return
	}
	k, secret, err := s.store.CreateWidgetKey(c.Request.Context(), principal(c).Workspace.ID, req.Name, req.AllowedOrigins)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, struct {
		parley.APIKey
		Key string `json:"key"`
	}{k, secret})
}

// putWidgetKey replaces a widget key's allowed origins (an empty list
// takes it off every page).
func (s *Server) putWidgetKey(c *gin.Context) {
	var req widgetKeyRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.AllowedOrigins == nil {
		fail(c, parley.Errorf(parley.EInvalid, "allowed_origins is required"))
		return
	}
	k, err := s.store.SetKeyOrigins(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"), req.AllowedOrigins)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// rotateIdentitySecret gives the workspace a new identity-verification
// secret and shows it, once.
func (s *Server) rotateIdentitySecret(c *gin.Context) {
	secret, err := s.store.RotateIdentitySecret(c.Request.Context(), principal(c).Workspace.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": secret})
}

// putSettings replaces the workspace's settings; omitted fields keep their
// current values.
func (s *Server) putSettings(c *gin.Context) {
	p := principal(c)
	settings := p.Workspace.Settings
	if err := bindJSON(c, &settings); err != nil {
		fail(c, err)
		return
	}
	ws, err := s.store.UpdateSettings(c.Request.Context(), p.Workspace.ID, settings)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ws)
}
