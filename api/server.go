// Package api is Parley's HTTP interface: a gin router with authentication,
// request ids, body limits, metrics and one error mapping. Handlers
// translate HTTP to calls on the store and the reply engine; they hold no SQL
// and no prompt text.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/analytics"
	"github.com/parleyhq/parley/assist"
	"github.com/parleyhq/parley/ctxlog"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/webhook"
)

// Store is what the API needs from the database.
type Store interface {
	Authenticate(ctx context.Context, secret string) (parley.Principal, error)
	UpdateSettings(ctx context.Context, workspaceID string, s parley.WorkspaceSettings) (parley.Workspace, error)

	CreateKB(ctx context.Context, workspaceID, name string) (parley.KnowledgeBase, error)
	ListKBs(ctx context.Context, workspaceID string) ([]parley.KnowledgeBase, error)
	KB(ctx context.Context, workspaceID, idOrName string) (parley.KnowledgeBase, error)
	ListSources(ctx context.Context, workspaceID, kbID string, after int64, limit int) ([]parley.Source, error)
	SourceChunks(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) (parley.Source, []parley.StoredChunk, error)

	Conversation(ctx context.Context, workspaceID, id string, limit int) (parley.Conversation, error)
	RecordFeedback(ctx context.Context, workspaceID string, f parley.Feedback) (string, error)

	CreateWidgetKey(ctx context.Context, workspaceID, name string, origins []string) (parley.APIKey, string, error)
	SetKeyOrigins(ctx context.Context, workspaceID, keyID string, origins []string) (parley.APIKey, error)
	OriginAllowed(ctx context.Context, origin string) (bool, error)
	VisitorKey(ctx context.Context, workspaceID string) ([]byte, error)
	IdentitySecret(ctx context.Context, workspaceID string) (string, error)
	RotateIdentitySecret(ctx context.Context, workspaceID string) (string, error)
	StartVisitorConversation(ctx context.Context, workspaceID, visitorID string, customer parley.Customer, language string) (parley.Conversation, error)
	LatestVisitorConversation(ctx context.Context, workspaceID, visitorID string) (string, error)
	VisitorConversation(ctx context.Context, workspaceID, visitorID, id string, after int64, limit int) (parley.Conversation, error)

	CreateTeam(ctx context.Context, workspaceID, name string) (parley.Team, error)
	ListTeams(ctx context.Context, workspaceID string) ([]parley.Team, error)
	DeleteTeam(ctx context.Context, workspaceID, ref string) error
	CreateAgent(ctx context.Context, workspaceID string, a parley.NewAgent) (parley.Agent, error)
	ListAgents(ctx context.Context, workspaceID, team string) ([]parley.Agent, error)
	UpdateAgent(ctx context.Context, workspaceID, id string, p parley.AgentPatch) (parley.Agent, error)
	DeleteAgent(ctx context.Context, workspaceID, id string) error
	CreateRoutingRule(ctx context.Context, workspaceID string, r parley.NewRoutingRule) (parley.RoutingRule, error)
	ListRoutingRules(ctx context.Context, workspaceID string) ([]parley.RoutingRule, error)
	DeleteRoutingRule(ctx context.Context, workspaceID, id string) error

	ListEscalations(ctx context.Context, workspaceID string, f parley.EscalationFilter) ([]parley.Escalation, string, error)
	Escalation(ctx context.Context, workspaceID, id string) (parley.Escalation, error)
	EscalationItem(ctx context.Context, workspaceID, id string) (parley.Escalation, error)
	ClaimEscalation(ctx context.Context, workspaceID, id, agentID string) (parley.Escalation, error)
	ResolveEscalation(ctx context.Context, r parley.Resolution) (parley.Escalation, error)
	PostAgentMessage(ctx context.Context, workspaceID string, m parley.AgentMessage) (parley.AgentPost, error)
	ResolvedConversations(ctx context.Context, workspaceID string, since time.Time, after string, limit int) ([]parley.ResolvedConversation, string, error)
	ListPhrasings(ctx context.Context, workspaceID string, f parley.PhrasingFilter) ([]parley.Phrasing, string, error)

	PutWebhook(ctx context.Context, workspaceID, url, secret string) (parley.Webhook, string, error)
	Webhook(ctx context.Context, workspaceID string) (parley.Webhook, error)
	DeleteWebhook(ctx context.Context, workspaceID string) error

	CreateSession(ctx context.Context, tokenHash []byte, p parley.Principal, lim parley.SessionLimits) error
	Session(ctx context.Context, tokenHash []byte, lim parley.SessionLimits) (parley.Principal, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error

	IngestJob(ctx context.Context, workspaceID, kbID, id string) (parley.IngestJob, error)

	AnalyticsDays(ctx context.Context, workspaceID string, from, to, now time.Time) ([]parley.DayCount, error)
	UnansweredQuestions(ctx context.Context, workspaceID string, from, to time.Time, limit int) ([]parley.UnansweredQuestion, int, error)

	CreateEvalRun(ctx context.Context, workspaceID string, r parley.EvalRun) (parley.EvalRun, error)
	ListEvalRuns(ctx context.Context, workspaceID, suite string, limit int) ([]parley.EvalRun, error)
	EvalRun(ctx context.Context, workspaceID string, id int64) (parley.EvalRun, error)
}

// Engine answers customer messages (reply.Engine).
type Engine interface {
	Answer(ctx context.Context, req reply.Request) (reply.Result, error)
	Handoff(ctx context.Context, req reply.HandoffRequest) (reply.Result, error)
}

// Assistant is agent assist (assist.Assistant): suggested replies,
// translation, rewriting and handover summaries.
type Assistant interface {
	Suggest(ctx context.Context, req assist.SuggestRequest) (assist.Suggestions, error)
	Translate(ctx context.Context, req assist.TranslateRequest) (assist.Translation, error)
	Rewrite(ctx context.Context, req assist.RewriteRequest) (assist.Rewrite, error)
	Summarize(ctx context.Context, ws parley.Workspace, conversationID, language string) (assist.Summary, error)
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
	// Assistant serves the agent-assist routes; nil answers them with 503.
	Assistant Assistant
	// WebhookPolicy decides where a webhook URL may point when it is set;
	// the zero value allows public addresses only.
	WebhookPolicy webhook.DestinationPolicy

	// Knowledge runs uploads and deletes of knowledge, retraining after
	// them; nil answers uploads and deletes with 503.
	Knowledge Knowledge

	// Embedder groups unanswered questions into topics for the analytics
	// gaps; nil answers them with 503.
	Embedder analytics.Embedder
	// MaxUploadBytes caps an upload's body instead of MaxBodyBytes (0 =
	// DefaultMaxUploadBytes); MaxUploadRecords caps its documents (0 =
	// DefaultMaxUploadRecords).
	MaxUploadBytes   int64
	MaxUploadRecords int
	// MaxEvalReportBytes caps an uploaded eval report instead of
	// MaxBodyBytes (0 = DefaultMaxEvalReportBytes).
	MaxEvalReportBytes int64
	// SyncIngestMax: an upload with at most this many chunks to embed is
	// written before the response; a larger one becomes a background job
	// on IngestJobs (0 = DefaultSyncIngestMax).
	SyncIngestMax int
	// IngestJobs queues the background jobs of large uploads; nil answers
	// them with 503.
	IngestJobs IngestJobs
	// Origins keeps the websites knowledge bases are synced from and
	// queues syncs; nil answers the origin routes with 503. CrawlPolicy
	// decides which site URLs may be set (the zero value: public only).
	Origins     Origins
	CrawlPolicy webhook.DestinationPolicy

	// ClassifyError turns store errors the handlers pass on unclassified
	// into domain errors (postgres.Classify): invalid input is a 400, a
	// database outage a 503 with Retry-After instead of a 500. nil leaves
	// them internal.
	ClassifyError func(error) error

	// Live wakes the widget's event streams when a conversation changes,
	// and agents' queue streams when an escalation changes; nil makes them
	// re-read every few seconds instead.
	Live Live
	// WidgetLimits are the widget routes' rate limits (zero fields: the
	// DefaultWidgetLimits values).
	WidgetLimits WidgetLimits
	// TrustedProxies are the networks of proxies whose X-Forwarded-For
	// names the client, for the per-address limits; none by default, so
	// the client is the connection's peer.
	TrustedProxies []netip.Prefix

	// Console configures the console's sessions.
	Console ConsoleOptions
	// QueueStreamMax is how long an agent's queue stream stays open
	// before the server ends it (0 = DefaultQueueStreamMax): the browser
	// reconnects and is authenticated again, so a revoked key or an
	// ended session stops receiving within that time.
	QueueStreamMax time.Duration
}

// Server is the HTTP API.
type Server struct {
	store   Store
	engine  Engine
	opts    Options
	log     *slog.Logger
	metrics *metrics
	router  *gin.Engine

	limits      *limits
	visitorKeys *keyCache
	origins     *originCache
	stopStreams chan struct{}
	stopOnce    sync.Once
	throttle    *authThrottle
}

// New builds the server and its routes.
func New(store Store, engine Engine, opts Options) *Server {
	gin.SetMode(gin.ReleaseMode)
	// The request's id and workspace travel in its context (ctxlog):
	// the server's own lines carry them whatever logger it was given.
	opts.Logger = ctxlog.Logger(opts.Logger)
	s := &Server{store: store, engine: engine, opts: opts, log: opts.Logger, metrics: newMetrics(opts.Metrics),
		limits:      newLimits(opts.WidgetLimits),
		visitorKeys: &keyCache{load: store.VisitorKey, keys: map[string][]byte{}},
		origins:     &originCache{lookup: store.OriginAllowed, ttl: 30 * time.Second, seen: map[string]originEntry{}},
		stopStreams: make(chan struct{}),
		throttle:    newAuthThrottle(),
	}
	r := gin.New()
	proxies := make([]string, len(opts.TrustedProxies))
	for i, p := range opts.TrustedProxies {
		proxies[i] = p.String()
	}
	// Parsed prefixes are always valid CIDRs: this cannot fail.
	_ = r.SetTrustedProxies(proxies)
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	dbOutage := &outage{classify: opts.ClassifyError, log: opts.Logger}
	r.Use(s.withRequestID, s.observe, dbOutage.watch, gin.CustomRecovery(recoverPanic), s.bodyLimit())
	r.NoRoute(func(c *gin.Context) {
		fail(c, parley.Errorf(parley.ENotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, &parley.Error{Code: codeMethodNotAllowed, Message: "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	r.GET("/widget.js", gin.WrapH(web.Widget()))
	r.HEAD("/widget.js", gin.WrapH(web.Widget()))

	s.widgetRoutes(r)
	s.v1Routes(r.Group("/v1", s.authenticate))
	s.consoleRoutes(r)

	s.router = r
	return s
}

// v1Routes mounts the /v1 API on v1, a group that has authenticated the
// caller: at /v1 by bearer key (authenticate), at /app/api/v1 by console
// session (consoleAPIAuth).
func (s *Server) v1Routes(v1 *gin.RouterGroup) {
	v1.GET("/workspace", s.getWorkspace)
	v1.POST("/answer", s.answer)
	v1.POST("/conversations/:id/feedback", s.postFeedback)
	v1.POST("/conversations/:id/handoff", s.postHandoff)

	agent := v1.Group("", require(parley.RoleAgent))
	agent.GET("/conversations/:id", s.getConversation)
	agent.POST("/conversations/:id/summary", s.summary)
	agent.POST("/conversations/:id/messages", s.postAgentMessage)
	agent.POST("/suggestions", s.suggestions)
	agent.POST("/translate", s.translate)
	agent.POST("/rewrite", s.rewrite)
	agent.GET("/conversations/resolved", s.resolvedConversations)
	agent.GET("/escalations", s.listEscalations)
	agent.GET("/agents", s.listAgents)
	agent.GET("/escalations/events", s.queueEvents)
	agent.GET("/escalations/:id", s.getEscalation)
	agent.POST("/escalations/:id/claim", s.claimEscalation)
	agent.POST("/escalations/:id/resolve", s.resolveEscalation)

	admin := v1.Group("", require(parley.RoleAdmin))
	admin.PUT("/workspace/settings", s.putSettings)
	admin.GET("/knowledge-bases", s.listKBs)
	admin.POST("/knowledge-bases", s.createKB)
	admin.GET("/knowledge-bases/:kb", s.getKB)
	admin.DELETE("/knowledge-bases/:kb", s.deleteKB)
	admin.GET("/knowledge-bases/:kb/sources", s.listSources)
	admin.DELETE("/knowledge-bases/:kb/sources/:source", s.deleteSource)
	admin.GET("/knowledge-bases/:kb/sources/:source/chunks", s.sourceChunks)
	admin.POST(uploadRoute[len("/v1"):], s.postUpload)
	admin.GET("/knowledge-bases/:kb/jobs/:job", s.getJob)
	admin.GET("/knowledge-bases/:kb/origin", s.getOrigin)
	admin.PUT("/knowledge-bases/:kb/origin", s.putOrigin)
	admin.POST("/knowledge-bases/:kb/sync", s.postSync)
	admin.GET("/teams", s.listTeams)
	admin.POST("/teams", s.createTeam)
	admin.DELETE("/teams/:team", s.deleteTeam)
	admin.POST("/agents", s.createAgent)
	admin.PATCH("/agents/:id", s.patchAgent)
	admin.DELETE("/agents/:id", s.deleteAgent)
	admin.GET("/routing-rules", s.listRoutingRules)
	admin.POST("/routing-rules", s.createRoutingRule)
	admin.DELETE("/routing-rules/:id", s.deleteRoutingRule)
	admin.GET("/webhook", s.getWebhook)
	admin.PUT("/webhook", s.putWebhook)
	admin.DELETE("/webhook", s.deleteWebhook)
	admin.POST("/widget-keys", s.createWidgetKey)
	admin.PUT("/widget-keys/:id", s.putWidgetKey)
	admin.POST("/workspace/identity-secret", s.rotateIdentitySecret)
	admin.GET("/analytics/summary", s.analyticsSummary)
	admin.GET("/analytics/gaps", s.analyticsGaps)
	admin.POST(evalRunsRoute[len("/v1"):], s.postEvalRun)
	admin.GET("/evals/runs", s.listEvalRuns)
	admin.GET("/evals/runs/:id", s.getEvalRun)
	admin.GET("/learning/phrasings", s.listPhrasings)
	admin.POST("/learning/phrasings/:id/approve", s.approvePhrasing)
	admin.POST("/learning/phrasings/:id/reject", s.rejectPhrasing)
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
