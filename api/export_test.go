package api

import "github.com/gin-gonic/gin"

// Routes lists the server's routes, for the tests that must cover each.
func (s *Server) Routes() gin.RoutesInfo { return s.router.Routes() }
