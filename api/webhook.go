package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleyhq/parley"
)

type putWebhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

type webhookResponse struct {
	parley.Webhook
	// Secret is set only when Parley generated it: it is shown this once.
	Secret string `json:"secret,omitempty"`
}

// putWebhook sets the workspace's webhook, if the policy allows its URL.
// Without a secret one is generated and returned, once.
func (s *Server) putWebhook(c *gin.Context) {
	var req putWebhookRequest
	if err := bindJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := s.opts.WebhookPolicy.CheckURL(c.Request.Context(), req.URL); err != nil {
		fail(c, err)
		return
	}
	w, generated, err := s.store.PutWebhook(c.Request.Context(), principal(c).Workspace.ID, req.URL, req.Secret)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookResponse{Webhook: w, Secret: generated})
}

func (s *Server) getWebhook(c *gin.Context) {
	w, err := s.store.Webhook(c.Request.Context(), principal(c).Workspace.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *Server) deleteWebhook(c *gin.Context) {
	if err := s.store.DeleteWebhook(c.Request.Context(), principal(c).Workspace.ID); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
