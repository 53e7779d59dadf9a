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

// getWorkspace tells the caller which workspace its key belongs to.
func (s *Server) getWorkspace(c *gin.Context) {
	p := principal(c)
	c.JSON(http.StatusOK, workspaceResponse{Workspace: p.Workspace, Role: p.Role})
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
