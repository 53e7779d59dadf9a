// Package openai talks to OpenAI-compatible servers (OpenAI, Azure OpenAI,
// Ollama, vLLM, LiteLLM, ...) through github.com/sashabaranov/go-openai: a
// chat model (llm.ChatModel) and an embedder (retrieval.Embedder), with
// timeouts, retries and errors translated to Parley's codes. It is the only
// package that imports go-openai.
package openai

import (
	"errors"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Config says how to reach one OpenAI-compatible endpoint.
type Config struct {
	// BaseURL is the API root: https://api.openai.com/v1,
	// http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM),
	// or for Azure the resource endpoint https://NAME.openai.azure.com.
	BaseURL string
	// APIKey is sent as a bearer token (as the api-key header for Azure);
	// it may be empty for local servers.
	APIKey string
	// Model names the model in requests.
	Model string
	// AzureDeployment, when set, selects Azure OpenAI: requests go to
	// /openai/deployments/AzureDeployment/... with APIVersion.
	AzureDeployment string
	// APIVersion is Azure's api-version (default DefaultAzureAPIVersion).
	APIVersion string
	// Timeout bounds one call, retries included (default 60s).
	Timeout time.Duration
	// MaxRetries is how often a failed request is retried (default 3; a
	// negative value means none).
	MaxRetries int
	// BackoffBase and BackoffMax shape the exponential backoff with full
	// jitter between retries (defaults 500ms and 8s). A Retry-After header
	// is honoured up to RetryAfterMax (default 20s).
	BackoffBase, BackoffMax, RetryAfterMax time.Duration
	// HTTPClient, if set, sends the requests; no timeout of its own is
	// needed.
	HTTPClient *http.Client
}

// DefaultAzureAPIVersion is the Azure OpenAI api-version used when none is
// configured (a generally available version).
const DefaultAzureAPIVersion = "2024-10-21"

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 500 * time.Millisecond
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 8 * time.Second
	}
	if c.RetryAfterMax <= 0 {
		c.RetryAfterMax = 20 * time.Second
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAzureAPIVersion
	}
	if c.Model == "" {
		c.Model = c.AzureDeployment
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.BaseURL == "":
		return errors.New("openai: no base URL")
	case c.Model == "":
		return errors.New("openai: no model")
	}
	return nil
}

// client builds the go-openai client; responses pass through a doer that
// records Retry-After for the retry loop.
func (c Config) client() *openai.Client {
	var cfg openai.ClientConfig
	if c.AzureDeployment != "" {
		cfg = openai.DefaultAzureConfig(c.APIKey, strings.TrimRight(c.BaseURL, "/"))
		cfg.APIVersion = c.APIVersion
		deployment := c.AzureDeployment
		cfg.AzureModelMapperFunc = func(string) string { return deployment }
	} else {
		cfg = openai.DefaultConfig(c.APIKey)
		cfg.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	cfg.HTTPClient = retryAfterDoer{c.HTTPClient}
	return openai.NewClientWithConfig(cfg)
}
