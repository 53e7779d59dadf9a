package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything Parley reads from the environment. It is built once,
// in main, and handed to the parts as plain values.
type Config struct {
	DatabaseURL     string        // PARLEY_DATABASE_URL
	DBMaxConns      int32         // PARLEY_DB_MAX_CONNS
	Addr            string        // PARLEY_ADDR
	AutoMigrate     bool          // PARLEY_AUTO_MIGRATE
	LogFormat       string        // PARLEY_LOG_FORMAT: json or text
	LogLevel        slog.Level    // PARLEY_LOG_LEVEL: debug, info, warn, error
	MaxBodyBytes    int64         // PARLEY_MAX_BODY_BYTES
	ReadTimeout     time.Duration // PARLEY_READ_TIMEOUT
	WriteTimeout    time.Duration // PARLEY_WRITE_TIMEOUT
	ShutdownTimeout time.Duration // PARLEY_SHUTDOWN_TIMEOUT
	Workspace       string        // PARLEY_WORKSPACE: default workspace for CLI commands
	Embedder        string        // PARLEY_EMBEDDER: local
}

// defaultDatabaseURL is what scripts/db-setup.sh creates.
const defaultDatabaseURL = "postgres://parley:parley@127.0.0.1:5432/parley?sslmode=disable"

// loadConfig reads PARLEY_* variables through getenv, applies defaults and
// validates. All problems are reported together.
func loadConfig(getenv func(string) string) (Config, error) {
	r := envReader{getenv: getenv}
	cfg := Config{
		DatabaseURL:     r.str("PARLEY_DATABASE_URL", defaultDatabaseURL),
		DBMaxConns:      int32(r.integer("PARLEY_DB_MAX_CONNS", 16, 1, 1000)),
		Addr:            r.str("PARLEY_ADDR", ":8080"),
		AutoMigrate:     r.boolean("PARLEY_AUTO_MIGRATE", true),
		LogFormat:       r.oneOf("PARLEY_LOG_FORMAT", "json", "json", "text"),
		MaxBodyBytes:    int64(r.integer("PARLEY_MAX_BODY_BYTES", 1<<20, 1024, 1<<30)),
		ReadTimeout:     r.duration("PARLEY_READ_TIMEOUT", 30*time.Second),
		WriteTimeout:    r.duration("PARLEY_WRITE_TIMEOUT", 120*time.Second),
		ShutdownTimeout: r.duration("PARLEY_SHUTDOWN_TIMEOUT", 20*time.Second),
		Workspace:       r.str("PARLEY_WORKSPACE", "demo"),
		Embedder:        r.oneOf("PARLEY_EMBEDDER", "local", "local"),
	}
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
		slog.String("embedder", c.Embedder),
	)
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
