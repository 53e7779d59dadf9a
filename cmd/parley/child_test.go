package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres/pgtest"
)

// childServer is `parley serve` in a child process: this test binary,
// re-executed by TestMain.
type childServer struct {
	addr   string
	cmd    *exec.Cmd
	log    bytes.Buffer  // its standard error; read it only after exited
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned, once exited
}

// serveSampleFAQ loads the sample FAQ into a workspace of the test
// database, makes a widget key for it and starts a server (startServer,
// with env): the set-up of the tests that stop a server or its database
// under load.
func serveSampleFAQ(t *testing.T, env ...string) (ws parley.Workspace, key string, child *childServer) {
	t.Helper()
	ws = pgtest.Workspace(t)
	faq := filepath.Join("..", "..", "evals", "suites", "sample", "knowledge", "faq.csv")
	if _, _, err := cli(t, nil, "ingest", faq, "--workspace", ws.Name, "--kb", "help"); err != nil {
		t.Fatal(err)
	}
	_, key, err := pgtest.DB(t).CreateKey(context.Background(), ws.ID, "under load", parley.RoleWidget)
	if err != nil {
		t.Fatal(err)
	}
	return ws, key, startServer(t, env...)
}

// startServer starts `parley serve` on a free address of this host with
// the test database and the environment variables given ("NAME=value"),
// and waits until it answers /healthz. The test's end kills it if it is
// still running.
func startServer(t *testing.T, env ...string) *childServer {
	t.Helper()
	s := &childServer{addr: freeAddr(t), exited: make(chan struct{})}
	s.cmd = exec.Command(os.Args[0], "-test.run=^$")
	s.cmd.Env = append(os.Environ(), "PARLEY_TEST_CHILD=serve", "PARLEY_DATABASE_URL="+pgtest.URL(t), "PARLEY_ADDR="+s.addr)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stderr = &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
	s.waitHealthy(t, 3*time.Minute)
	return s
}

// url returns the server's URL of path.
func (s *childServer) url(path string) string { return "http://" + s.addr + path }

func (s *childServer) waitHealthy(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url("/healthz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before it was healthy: %v\n%s", s.err, s.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("server at %s not healthy after %s", s.addr, limit)
}

// wait waits up to limit for the process to exit and returns its exit
// code; it fails the test if it is still running then.
func (s *childServer) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(limit):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("server still running %s later; killed it. Its log:\n%s", limit, s.log.String())
	}
	var exit *exec.ExitError
	if s.err != nil && !errors.As(s.err, &exit) {
		t.Fatalf("wait for the server: %v", s.err)
	}
	return s.cmd.ProcessState.ExitCode()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
