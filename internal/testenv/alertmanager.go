package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// DefaultAlertmanagerConfig is the configuration RunAlertmanager uses when
// AlertmanagerOptions.ConfigYAML is empty: every alert goes to one receiver,
// "null", that has no integrations, with no group wait.
const DefaultAlertmanagerConfig = `route:
  receiver: "null"
  group_wait: 0s
receivers:
  - name: "null"
`

// AlertmanagerOptions configures an Alertmanager started by
// RunAlertmanager. The zero value is usable.
type AlertmanagerOptions struct {
	// ConfigYAML is the content of alertmanager.yml; empty means
	// DefaultAlertmanagerConfig.
	ConfigYAML string
	// ExternalURL is passed as --web.external-url; it defaults to the
	// Alertmanager's own URL so that generated links do not depend on the
	// host name. The API stays at the root of URL (--web.route-prefix=/).
	ExternalURL string
	// ExtraArgs are appended to the command line; they must not repeat a
	// flag testenv sets (--config.file, --storage.path,
	// --web.listen-address, --cluster.listen-address, --web.external-url,
	// --web.route-prefix).
	ExtraArgs []string
	// Dir is the working directory holding alertmanager.yml and the
	// storage (data/). If empty, a temporary directory is created and Stop
	// removes it.
	Dir string
	// Stdout, if set, receives the process's output as it is written.
	Stdout io.Writer
}

// Alertmanager is a running Alertmanager process, with clustering
// disabled.
type Alertmanager struct {
	// URL is the base URL of the web API, http://127.0.0.1:PORT; the v2
	// API is under URL + "/api/v2". Dir is the working directory (see
	// AlertmanagerOptions.Dir); ConfigFile is alertmanager.yml, which a test
	// may rewrite before calling Reload.
	server
}

// RunAlertmanager starts bin (an Alertmanager 0.2x; Debian calls it
// prometheus-alertmanager) on a free port of 127.0.0.1, with clustering
// disabled, and waits up to 30s until /-/ready answers 200. The process
// gets SIGTERM when ctx ends; call Stop to stop it earlier and to collect
// its exit status.
func RunAlertmanager(ctx context.Context, bin string, o AlertmanagerOptions) (*Alertmanager, error) {
	dir, ownDir, err := workDir(o.Dir, "testenv-alertmanager-")
	if err != nil {
		return nil, err
	}
	a := &Alertmanager{server{Dir: dir, ConfigFile: filepath.Join(dir, "alertmanager.yml"), client: newHTTPClient(), ownDir: ownDir}}
	cfg := o.ConfigYAML
	if cfg == "" {
		cfg = DefaultAlertmanagerConfig
	}
	if err := os.WriteFile(a.ConfigFile, []byte(cfg), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("write alertmanager config: %w", err), a.removeDir())
	}
	proc, u, err := launch(ctx, launchSpec{
		name: "alertmanager",
		bin:  bin,
		dir:  dir,
		sink: o.Stdout,
		args: func(listen string) []string {
			ext := o.ExternalURL
			if ext == "" {
				ext = "http://" + listen
			}
			args := []string{
				"--config.file=" + a.ConfigFile,
				"--storage.path=" + filepath.Join(dir, "data"),
				"--web.listen-address=" + listen,
				"--cluster.listen-address=",
				"--web.external-url=" + ext,
				"--web.route-prefix=/",
			}
			return append(args, o.ExtraArgs...)
		},
	})
	if err != nil {
		return nil, errors.Join(err, a.removeDir())
	}
	a.proc, a.URL = proc, u
	return a, nil
}

// StartAlertmanager is RunAlertmanager for tests: it finds the binary with
// Binary(t, "prometheus-alertmanager"), uses a directory under t.TempDir()
// unless o.Dir is set, fails the test if Alertmanager does not start, and
// stops it on cleanup. The output of a failed test's Alertmanager is
// logged.
func StartAlertmanager(t testing.TB, o AlertmanagerOptions) *Alertmanager {
	t.Helper()
	bin := Binary(t, "prometheus-alertmanager")
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	a, err := RunAlertmanager(t.Context(), bin, o)
	if err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	a.stopWithTest(t, "alertmanager")
	return a
}
