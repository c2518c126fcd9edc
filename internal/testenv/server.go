package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
)

// server is what a running Prometheus and a running Alertmanager have in
// common: the process, its directory and its HTTP API.
type server struct {
	URL        string
	Dir        string
	ConfigFile string

	proc   *process
	client *http.Client
	ownDir bool
}

// Stop sends SIGTERM, waits up to 10s, then kills the process, and removes
// the directory the Run function created. It returns nil if the process
// exited cleanly. It is safe to call twice.
func (s *server) Stop() error {
	return errors.Join(s.proc.stop(), s.removeDir())
}

func (s *server) removeDir() error {
	if !s.ownDir {
		return nil
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", s.Dir, err)
	}
	return nil
}

// Output returns the last 64 KiB of the process's output.
func (s *server) Output() string { return s.proc.log.String() }

// Reload asks the process to reload its configuration (POST /-/reload) and
// returns the error it reports, if any.
func (s *server) Reload(ctx context.Context) error {
	return postReload(ctx, s.client, s.URL)
}

// stopWithTest stops the process when the test ends, logging its output
// if the test failed.
func (s *server) stopWithTest(t testing.TB, name string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output (last %d lines):\n%s", name, errorLogLines, s.proc.log.lastLines(errorLogLines))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
}
