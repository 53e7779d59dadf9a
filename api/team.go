package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

type createTeamRequest struct {
	Name string `json:"name"`
}

func (s *Server) createTeam(c *gin.Context) {
	var req createTeamRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	t, err := s.store.CreateTeam(c.Request.Context(), principal(c).Workspace.ID, req.Name)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (s *Server) listTeams(c *gin.Context) {
	teams, err := s.store.ListTeams(c.Request.Context(), principal(c).Workspace.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"teams": teams})
}

func (s *Server) deleteTeam(c *gin.Context) {
	if err := s.store.DeleteTeam(c.Request.Context(), principal(c).Workspace.ID, c.Param("team")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) createAgent(c *gin.Context) {
	var req parley.NewAgent
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	a, err := s.store.CreateAgent(c.Request.Context(), principal(c).Workspace.ID, req)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

// listAgents lists agents, of one team with ?team=NAME.
func (s *Server) listAgents(c *gin.Context) {
	agents, err := s.store.ListAgents(c.Request.Context(), principal(c).Workspace.ID, c.Query("team"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"agents": agents})
}

func (s *Server) patchAgent(c *gin.Context) {
	var req parley.AgentPatch
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	a, err := s.store.UpdateAgent(c.Request.Context(), principal(c).Workspace.ID, c.Param("id"), req)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) deleteAgent(c *gin.Context) {
	if err := s.store.DeleteAgent(c.Request.Context(), principal(c).Workspace.ID, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) createRoutingRule(c *gin.Context) {
	var req parley.NewRoutingRule
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	r, err := s.store.CreateRoutingRule(c.Request.Context(), principal(c).Workspace.ID, req)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

// listRoutingRules lists the rules in the order they are tried.
func (s *Server) listRoutingRules(c *gin.Context) {
	rules, err := s.store.ListRoutingRules(c.Request.Context(), principal(c).Workspace.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"routing_rules": rules})
}

func (s *Server) deleteRoutingRule(c *gin.Context) {
	if err := s.store.DeleteRoutingRule(c.Request.Context(), principal(c).Workspace.ID, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
