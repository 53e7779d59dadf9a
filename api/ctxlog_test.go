package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/ctxlog"
	"github.com/parleyhq/parley/internal/syncbuf"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/postgres/pgtest"
	"github.com/parleyhq/parley/reply"
	"github.com/parleyhq/parley/retrieval"
)

// brokenClassifiers cannot read any classifier: the engine logs that it
// ranks by the vote alone.
type brokenClassifiers struct{ *postgres.DB }

func (brokenClassifiers) ClassifierVersion(context.Context, string, string) (int64, bool, error) {
	return 0, false, errors.New("classifiers unreadable")
}

// A line the reply engine logs while answering carries the request's id
// and workspace, though the engine is given neither.
func TestEngineLogLineCarriesTheRequestID(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	var logs syncbuf.Buffer
	log := ctxlog.Logger(slog.New(slog.NewTextHandler(&logs, nil)))
	engine := reply.New(db, retrieval.NewLocal(), reply.Options{Classifiers: brokenClassifiers{db}, Logger: log})
	srv := httptest.NewServer(api.New(db, engine, api.Options{Logger: log, MaxBodyBytes: testBodyLimit, Version: "test"}))
	t.Cleanup(srv.Close)
	ws := pgtest.Workspace(t)
	_, key, err := db.CreateKey(context.Background(), ws.ID, "test", parley.RoleWidget)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/answer", strings.NewReader(`{"message": {"text": "where is my parcel?"}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "engine-line-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("answer: %d", resp.StatusCode)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "intent classifier unavailable") {
			if !strings.Contains(line, "request_id=engine-line-1") || !strings.Contains(line, "workspace_id="+ws.ID) {
				t.Fatalf("the engine's line lacks the request id or workspace: %s", line)
			}
			return
		}
	}
	t.Fatalf("the engine logged no line about its classifier:\n%s", logs.String())
}
