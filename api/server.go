// Package api is Parley's HTTP interface: a gin router with authentication,
// request ids, body limits, metrics and one error mapping. Handlers
// translate HTTP to calls on the store and the reply engine; they hold no SQL
// and no prompt text.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/reply"
)

// Store is what the API needs from the database.
type Store interface {
	Authenticate(ctx context.Context, secret string) (parley.Principal, error)
	Workspace(ctx context.Context, id string) (parley.Workspace, error)
	UpdateSettings(ctx context.Context, workspaceID string, s parley.WorkspaceSettings) (parley.Workspace, error)

	CreateKB(ctx context.Context, workspaceID, name string) (parley.KnowledgeBase, error)
	ListKBs(ctx context.Context, workspaceID string) ([]parley.KnowledgeBase, error)
	KB(ctx context.Context, workspaceID, idOrName string) (parley.KnowledgeBase, error)
	DeleteKB(ctx context.Context, workspaceID, idOrName string) error
	ListSources(ctx context.Context, workspaceID, kbID string, after int64, limit int) ([]parley.Source, error)
	DeleteSource(ctx context.Context, workspaceID, kbID string, sourceID int64) error

	Conversation(ctx context.Context, workspaceID, id string, limit int) (parley.Conversation, error)
}

// Engine answers customer messages (reply.Engine).
type Engine interface {
	Answer(ctx context.Context, req reply.Request) (reply.Result, error)
}

// Options configure the server.
type Options struct {
	Logger *slog.Logger
	// MaxBodyBytes caps JSON request bodies.
	MaxBodyBytes int64
	// Ready reports whether the server can take traffic (database reachable,
	// schema current); /readyz answers 503 with its error otherwise.
	Ready func(ctx context.Context) error
	// Metrics is the registry /metrics serves; the server adds its own
	// collectors to it.
	Metrics *prometheus.Registry
	Version string
}

// Server is the HTTP API.
type Server struct {
	store   Store
	engine  Engine
	opts    Options
	log     *slog.Logger
	metrics *metrics
	router  *gin.Engine
}

// New builds the server and its routes.
func New(store Store, engine Engine, opts Options) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{store: store, engine: engine, opts: opts, log: opts.Logger, metrics: newMetrics(opts.Metrics)}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(s.withRequestID, s.observe, gin.CustomRecovery(recoverPanic), limitBody(opts.MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) {
		fail(c, parley.Errorf(parley.ENotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, &parley.Error{Code: codeMethodNotAllowed, Message: "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))

	v1 := r.Group("/v1", s.authenticate)
	v1.GET("/workspace", s.getWorkspace)
	v1.POST("/answer", s.answer)

	agent := v1.Group("", require(parley.RoleAgent))
	agent.GET("/conversations/:id", s.getConversation)

	admin := v1.Group("", require(parley.RoleAdmin))
	admin.PUT("/workspace/settings", s.putSettings)
	admin.GET("/knowledge-bases", s.listKBs)
	admin.POST("/knowledge-bases", s.createKB)
	admin.GET("/knowledge-bases/:kb", s.getKB)
	admin.DELETE("/knowledge-bases/:kb", s.deleteKB)
	admin.GET("/knowledge-bases/:kb/sources", s.listSources)
	admin.DELETE("/knowledge-bases/:kb/sources/:source", s.deleteSource)

	s.router = r
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.opts.Version})
}

func (s *Server) readyz(c *gin.Context) {
	if err := s.opts.Ready(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
