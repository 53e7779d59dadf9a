package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/ratelimit"
)

// Config is everything Parley reads from the environment. It is built once,
// in main, and handed to the parts as plain values.
type Config struct {
	DatabaseURL     string        // PARLEY_DATABASE_URL
	DBMaxConns      int32         // PARLEY_DB_MAX_CONNS
	Addr            string        // PARLEY_ADDR
	DemoPageAddr    string        // PARLEY_DEMO_PAGE_ADDR: listen address of parley demo-page
	AutoMigrate     bool          // PARLEY_AUTO_MIGRATE
	LogFormat       string        // PARLEY_LOG_FORMAT: json or text
	LogLevel        slog.Level    // PARLEY_LOG_LEVEL: debug, info, warn, error
	MaxBodyBytes    int64         // PARLEY_MAX_BODY_BYTES
	ReadTimeout     time.Duration // PARLEY_READ_TIMEOUT
	WriteTimeout    time.Duration // PARLEY_WRITE_TIMEOUT
	ShutdownTimeout time.Duration // PARLEY_SHUTDOWN_TIMEOUT
	Workspace       string        // PARLEY_WORKSPACE: default workspace for CLI commands
	Embedder        string        // PARLEY_EMBEDDER: local or openai
	LLM             LLMConfig     // PARLEY_LLM_*: the chat model for agent assist
	Embed           EmbedConfig   // PARLEY_EMBED_*: the embedder when PARLEY_EMBEDDER=openai
	// MaxUploadBytes caps an upload's body (PARLEY_MAX_UPLOAD_BYTES) and
	// MaxUploadRecords its documents (PARLEY_MAX_UPLOAD_RECORDS).
	MaxUploadBytes   int64
	MaxUploadRecords int
	// WebhookPollInterval is how often the delivery worker looks for due
	// webhook events (PARLEY_WEBHOOK_POLL_INTERVAL).
	WebhookPollInterval time.Duration
	// WebhookAllowPrivate lets webhooks point at loopback, private and
	// link-local addresses (PARLEY_WEBHOOK_ALLOW_PRIVATE): on premises.
	WebhookAllowPrivate bool
	// CrawlAllowPrivate lets the website crawler fetch from loopback,
	// private and link-local addresses (an intranet help center).
	CrawlAllowPrivate bool
	// SyncCheckInterval is how often parley serve looks for knowledge
	// bases whose scheduled sync is due.
	SyncCheckInterval time.Duration
	// Delivered webhook events are deleted OutboxRetention after delivery
	// (PARLEY_OUTBOX_RETENTION), events given up OutboxDeadRetention after
	// (PARLEY_OUTBOX_DEAD_RETENTION), checked every OutboxCleanupInterval
	// (PARLEY_OUTBOX_CLEANUP_INTERVAL).
	OutboxRetention       time.Duration
	OutboxDeadRetention   time.Duration
	OutboxCleanupInterval time.Duration
	// WidgetLimits are the widget routes' rate limits: PARLEY_RATE_VISITOR,
	// PARLEY_RATE_WIDGET_KEY, PARLEY_RATE_ADDRESS and
	// PARLEY_RATE_NEW_CONVERSATIONS, each N/s, N/min, N/h or N/DURATION.
	WidgetLimits api.WidgetLimits
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (PARLEY_TRUSTED_PROXIES: comma-separated IPs or CIDRs; none by default).
	TrustedProxies []netip.Prefix
	// IngestJobs is how many background ingest jobs `parley serve` runs at
	// once (PARLEY_INGEST_JOBS); a run longer than IngestJobTimeout
	// (PARLEY_INGEST_JOB_TIMEOUT) is cancelled and tried again.
	IngestJobs       int
	IngestJobTimeout time.Duration
	// ConsoleSessions: a console session ends after Idle without a request
	// (PARLEY_CONSOLE_SESSION_IDLE) or Max after sign-in
	// (PARLEY_CONSOLE_SESSION_MAX).
	ConsoleSessions parley.SessionLimits
}

// defaultMaxConns is 4 connections per core: more only queue inside
// PostgreSQL when it shares the cores (BENCHMARKS.md: p99 at 300 answers/s
// fell from 68 ms with 16 connections to 29-40 ms with 8 on 2 cores).
func defaultMaxConns() int { return 4 * runtime.GOMAXPROCS(0) }

// defaultDatabaseURL is what scripts/db-setup.sh creates.
const defaultDatabaseURL = "postgres://parley:parley@127.0.0.1:5432/parley?sslmode=disable"

// loadConfig reads PARLEY_* variables through getenv, applies defaults and
// validates. All problems are reported together.
func loadConfig(getenv func(string) string) (Config, error) {
	r := envReader{getenv: getenv}
	cfg := Config{
		DatabaseURL:     r.str("PARLEY_DATABASE_URL", defaultDatabaseURL),
		DBMaxConns:      int32(r.integer("PARLEY_DB_MAX_CONNS", defaultMaxConns(), 1, 1000)),
		Addr:            r.str("PARLEY_ADDR", ":8080"),
		DemoPageAddr:    r.str("PARLEY_DEMO_PAGE_ADDR", "127.0.0.1:8081"),
		AutoMigrate:     r.boolean("PARLEY_AUTO_MIGRATE", true),
		LogFormat:       r.oneOf("PARLEY_LOG_FORMAT", "json", "json", "text"),
		MaxBodyBytes:    int64(r.integer("PARLEY_MAX_BODY_BYTES", 1<<20, 1024, 1<<30)),
		ReadTimeout:     r.duration("PARLEY_READ_TIMEOUT", 30*time.Second),
		WriteTimeout:    r.duration("PARLEY_WRITE_TIMEOUT", 120*time.Second),
		ShutdownTimeout: r.duration("PARLEY_SHUTDOWN_TIMEOUT", 20*time.Second),
		Workspace:       r.str("PARLEY_WORKSPACE", "demo"),
		Embedder:        r.oneOf("PARLEY_EMBEDDER", "local", "local", "openai"),

		MaxUploadBytes:   int64(r.integer("PARLEY_MAX_UPLOAD_BYTES", api.DefaultMaxUploadBytes, 1024, 1<<34)),
		MaxUploadRecords: r.integer("PARLEY_MAX_UPLOAD_RECORDS", api.DefaultMaxUploadRecords, 1, 10_000_000),

		WebhookPollInterval: r.duration("PARLEY_WEBHOOK_POLL_INTERVAL", time.Second),
		WebhookAllowPrivate: r.boolean("PARLEY_WEBHOOK_ALLOW_PRIVATE", false),
		CrawlAllowPrivate:   r.boolean("PARLEY_CRAWL_ALLOW_PRIVATE", false),
		SyncCheckInterval:   r.duration("PARLEY_SYNC_CHECK_INTERVAL", time.Minute),

		OutboxRetention:       r.duration("PARLEY_OUTBOX_RETENTION", 7*24*time.Hour),
		OutboxDeadRetention:   r.duration("PARLEY_OUTBOX_DEAD_RETENTION", 30*24*time.Hour),
		OutboxCleanupInterval: r.duration("PARLEY_OUTBOX_CLEANUP_INTERVAL", time.Hour),

		IngestJobs:       r.integer("PARLEY_INGEST_JOBS", postgres.DefaultQueueWorkers, 1, 64),
		IngestJobTimeout: r.duration("PARLEY_INGEST_JOB_TIMEOUT", postgres.DefaultJobTimeout),

		ConsoleSessions: parley.SessionLimits{
			Idle: r.duration("PARLEY_CONSOLE_SESSION_IDLE", parley.DefaultSessionIdle),
			Max:  r.duration("PARLEY_CONSOLE_SESSION_MAX", parley.DefaultSessionMax),
		},
	}
	limits := api.DefaultWidgetLimits()
	cfg.WidgetLimits = api.WidgetLimits{
		Visitor:          r.rate("PARLEY_RATE_VISITOR", limits.Visitor),
		Key:              r.rate("PARLEY_RATE_WIDGET_KEY", limits.Key),
		Address:          r.rate("PARLEY_RATE_ADDRESS", limits.Address),
		NewConversations: r.rate("PARLEY_RATE_NEW_CONVERSATIONS", limits.NewConversations),
	}
	cfg.TrustedProxies = r.prefixes("PARLEY_TRUSTED_PROXIES")
	switch lvl := r.oneOf("PARLEY_LOG_LEVEL", "info", "debug", "info", "warn", "error"); lvl {
	case "debug":
		cfg.LogLevel = slog.LevelDebug
	case "warn":
		cfg.LogLevel = slog.LevelWarn
	case "error":
		cfg.LogLevel = slog.LevelError
	}
	if u, err := url.Parse(cfg.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		r.errs = append(r.errs, "PARLEY_DATABASE_URL must be a postgres:// URL")
	}
	cfg.LLM = loadLLM(&r)
	cfg.Embed = loadEmbed(&r, cfg.Embedder, cfg.LLM)
	if len(r.errs) > 0 {
		return cfg, errors.New("invalid configuration:\n  " + strings.Join(r.errs, "\n  "))
	}
	return cfg, nil
}

// LogValue keeps the database password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", redactURL(c.DatabaseURL)),
		slog.String("addr", c.Addr),
		slog.Bool("auto_migrate", c.AutoMigrate),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Int64("max_upload_bytes", c.MaxUploadBytes),
		slog.Int("max_upload_records", c.MaxUploadRecords),
		slog.Bool("webhook_allow_private", c.WebhookAllowPrivate),
		slog.String("rate_visitor", c.WidgetLimits.Visitor.String()),
		slog.String("rate_widget_key", c.WidgetLimits.Key.String()),
		slog.String("rate_address", c.WidgetLimits.Address.String()),
		slog.String("rate_new_conversations", c.WidgetLimits.NewConversations.String()),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.Bool("crawl_allow_private", c.CrawlAllowPrivate),
		slog.Int("ingest_jobs", c.IngestJobs),
		slog.String("ingest_job_timeout", c.IngestJobTimeout.String()),
		slog.String("embedder", c.Embedder),
		slog.Any("llm", c.LLM),
		slog.Any("embed", c.Embed),
	)
}

// LLMConfig is the OpenAI-compatible chat model. Without BaseURL and Model
// (or AzureDeployment) there is none: suggestions come from the knowledge
// only and translate, rewrite and summary answer 503.
type LLMConfig struct {
	BaseURL         string        // PARLEY_LLM_BASE_URL
	APIKey          string        // PARLEY_LLM_API_KEY (never logged)
	Model           string        // PARLEY_LLM_MODEL
	AzureDeployment string        // PARLEY_LLM_AZURE_DEPLOYMENT: selects Azure OpenAI
	APIVersion      string        // PARLEY_LLM_API_VERSION: Azure's api-version
	Timeout         time.Duration // PARLEY_LLM_TIMEOUT: per call, retries included
	MaxRetries      int           // PARLEY_LLM_MAX_RETRIES
	ContextTokens   int           // PARLEY_LLM_CONTEXT_TOKENS: the model's context window
}

// Enabled reports whether a chat model is configured.
func (l LLMConfig) Enabled() bool { return l.BaseURL != "" && l.Model != "" }

// LogValue leaves the API key out.
func (l LLMConfig) LogValue() slog.Value {
	if !l.Enabled() {
		return slog.StringValue("none")
	}
	return slog.GroupValue(
		slog.String("base_url", redactURL(l.BaseURL)),
		slog.String("model", l.Model),
		slog.String("azure_deployment", l.AzureDeployment),
		slog.Bool("api_key_set", l.APIKey != ""),
		slog.String("timeout", l.Timeout.String()),
		slog.Int("context_tokens", l.ContextTokens),
	)
}

func loadLLM(r *envReader) LLMConfig {
	l := LLMConfig{
		BaseURL:         r.str("PARLEY_LLM_BASE_URL", ""),
		APIKey:          r.str("PARLEY_LLM_API_KEY", ""),
		AzureDeployment: r.str("PARLEY_LLM_AZURE_DEPLOYMENT", ""),
		APIVersion:      r.str("PARLEY_LLM_API_VERSION", "2024-10-21"),
		Timeout:         r.duration("PARLEY_LLM_TIMEOUT", 60*time.Second),
		MaxRetries:      r.integer("PARLEY_LLM_MAX_RETRIES", 3, 0, 10),
		ContextTokens:   r.integer("PARLEY_LLM_CONTEXT_TOKENS", 8192, 1024, 10_000_000),
	}
	l.Model = r.str("PARLEY_LLM_MODEL", l.AzureDeployment)
	switch {
	case l.BaseURL == "" && l.Model != "":
		r.errs = append(r.errs, "PARLEY_LLM_MODEL is set but PARLEY_LLM_BASE_URL is not: set both (https://api.openai.com/v1 for OpenAI), or neither to run without a chat model")
	case l.BaseURL != "" && l.Model == "":
		r.errs = append(r.errs, "PARLEY_LLM_BASE_URL is set but PARLEY_LLM_MODEL is not: set both (or PARLEY_LLM_AZURE_DEPLOYMENT for Azure), or neither to run without a chat model")
	}
	if l.BaseURL != "" {
		r.httpURL("PARLEY_LLM_BASE_URL", l.BaseURL)
	}
	return l
}

// EmbedConfig is the OpenAI-compatible embedder. BaseURL and APIKey
// default to the chat model's.
type EmbedConfig struct {
	BaseURL         string // PARLEY_EMBED_BASE_URL
	APIKey          string // PARLEY_EMBED_API_KEY (never logged)
	Model           string // PARLEY_EMBED_MODEL
	Dimensions      int    // PARLEY_EMBED_DIMENSIONS: the model's vector size
	AzureDeployment string // PARLEY_EMBED_AZURE_DEPLOYMENT: selects Azure OpenAI
}

// LogValue leaves the API key out.
func (e EmbedConfig) LogValue() slog.Value {
	if e.Model == "" {
		return slog.StringValue("none")
	}
	return slog.GroupValue(
		slog.String("base_url", redactURL(e.BaseURL)),
		slog.String("model", e.Model),
		slog.Int("dimensions", e.Dimensions),
		slog.Bool("api_key_set", e.APIKey != ""),
	)
}

func loadEmbed(r *envReader, embedder string, llm LLMConfig) EmbedConfig {
	if embedder != "openai" {
		return EmbedConfig{}
	}
	e := EmbedConfig{
		BaseURL:         r.str("PARLEY_EMBED_BASE_URL", llm.BaseURL),
		APIKey:          r.str("PARLEY_EMBED_API_KEY", llm.APIKey),
		AzureDeployment: r.str("PARLEY_EMBED_AZURE_DEPLOYMENT", ""),
		Dimensions:      r.integer("PARLEY_EMBED_DIMENSIONS", 0, 1, 2000),
	}
	e.Model = r.str("PARLEY_EMBED_MODEL", e.AzureDeployment)
	if e.Model == "" {
		r.errs = append(r.errs, "PARLEY_EMBEDDER=openai needs PARLEY_EMBED_MODEL (e.g. text-embedding-3-small, or nomic-embed-text on Ollama)")
	}
	if e.Dimensions == 0 && strings.TrimSpace(r.getenv("PARLEY_EMBED_DIMENSIONS")) == "" {
		r.errs = append(r.errs, "PARLEY_EMBEDDER=openai needs PARLEY_EMBED_DIMENSIONS, the model's vector size (1536 for text-embedding-3-small, 768 for nomic-embed-text; at most 2000)")
	}
	if e.BaseURL == "" {
		r.errs = append(r.errs, "PARLEY_EMBEDDER=openai needs PARLEY_EMBED_BASE_URL (or PARLEY_LLM_BASE_URL)")
	} else {
		r.httpURL("PARLEY_EMBED_BASE_URL", e.BaseURL)
	}
	return e
}

// httpURL checks that raw is an http(s) URL.
func (r *envReader) httpURL(key, raw string) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.errs = append(r.errs, key+" must be an http:// or https:// URL such as https://api.openai.com/v1")
	}
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// envReader reads typed variables and collects every problem it meets.
type envReader struct {
	getenv func(string) string
	errs   []string
}

// rate reads a rate limit like 30/min.
func (r *envReader) rate(key string, def ratelimit.Rate) ratelimit.Rate {
	raw := strings.TrimSpace(r.getenv(key))
	if raw == "" {
		return def
	}
	rate, err := ratelimit.ParseRate(raw)
	if err != nil {
		r.errs = append(r.errs, key+": "+err.Error())
		return def
	}
	return rate
}

// prefixes reads comma-separated IP addresses and CIDR networks.
func (r *envReader) prefixes(key string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(r.getenv(key), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				r.errs = append(r.errs, fmt.Sprintf("%s: %q is neither an IP address nor a CIDR network", key, f))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out
}

func (r *envReader) str(key, def string) string {
	if v := strings.TrimSpace(r.getenv(key)); v != "" {
		return v
	}
	return def
}

func (r *envReader) integer(key string, def, min, max int) int {
	raw := strings.TrimSpace(r.getenv(key))
	if raw == "" {
		return def
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < min || v > max {
		r.errs = append(r.errs, fmt.Sprintf("%s must be an integer from %d to %d, got %q", key, min, max, raw))
		return def
	}
	return v
}

func (r *envReader) boolean(key string, def bool) bool {
	raw := strings.TrimSpace(r.getenv(key))
	if raw == "" {
		return def
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s must be true or false, got %q", key, raw))
		return def
	}
	return v
}

func (r *envReader) duration(key string, def time.Duration) time.Duration {
	raw := strings.TrimSpace(r.getenv(key))
	if raw == "" {
		return def
	}
	v, err := time.ParseDuration(raw)
	if err != nil || v <= 0 {
		r.errs = append(r.errs, fmt.Sprintf("%s must be a positive duration such as 30s, got %q", key, raw))
		return def
	}
	return v
}

func (r *envReader) oneOf(key, def string, allowed ...string) string {
	v := strings.ToLower(r.str(key, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.errs = append(r.errs, fmt.Sprintf("%s must be one of %s, got %q", key, strings.Join(allowed, ", "), v))
	return def
}
