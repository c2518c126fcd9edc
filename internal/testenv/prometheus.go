package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// PrometheusOptions configures a Prometheus started by RunPrometheus. The
// zero value starts a Prometheus that scrapes nothing.
type PrometheusOptions struct {
	// ScrapeTargets are host:port addresses serving /metrics, scraped as
	// one job named "testenv" with honor_labels: true, so the job and
	// instance labels a Target exposes are kept. Prometheus 2.42 hands new
	// targets to its scrapers at most every 5s, so the first scrape comes
	// about 5s after start; later changes show within a scrape interval.
	ScrapeTargets []string
	// ScrapeInterval defaults to 1s. The scrape timeout is the smaller of
	// it and 10s.
	ScrapeInterval time.Duration
	// EvaluationInterval defaults to 1s.
	EvaluationInterval time.Duration
	// RuleFiles are absolute paths of rule files to load.
	RuleFiles []string
	// AlertmanagerURLs are host:port addresses of Alertmanagers that
	// receive this Prometheus's alerts (API v2). A URL with a scheme is
	// accepted; only its host:port is used.
	AlertmanagerURLs []string
	// ExternalURL is passed as --web.external-url. The API stays at the
	// root of URL whatever its path (--web.route-prefix=/).
	ExternalURL string
	// ExtraArgs are appended to the command line; they must not repeat a
	// flag testenv sets (--config.file, --storage.tsdb.path,
	// --web.listen-address, --web.enable-lifecycle, --web.external-url,
	// --web.route-prefix).
	ExtraArgs []string
	// Dir is the working directory holding prometheus.yml and the TSDB
	// (data/). If empty, a temporary directory is created and Stop
	// removes it.
	Dir string
	// Stdout, if set, receives the process's output as it is written.
	// The last part of it is kept in any case for error messages.
	Stdout io.Writer
}

// Prometheus is a running Prometheus process.
type Prometheus struct {
	// URL is the base URL of the web API, http://127.0.0.1:PORT. Dir is the
	// working directory (see PrometheusOptions.Dir); ConfigFile is the
	// generated prometheus.yml, which a test may rewrite before calling
	// Reload.
	server
}

// promConfig is the subset of prometheus.yml that testenv writes.
type promConfig struct {
	Global        promGlobal         `yaml:"global"`
	RuleFiles     []string           `yaml:"rule_files,omitempty"`
	Alerting      *promAlerting      `yaml:"alerting,omitempty"`
	ScrapeConfigs []promScrapeConfig `yaml:"scrape_configs,omitempty"`
}

type promGlobal struct {
	ScrapeInterval     model.Duration `yaml:"scrape_interval"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
}

type promAlerting struct {
	Alertmanagers []promAlertmanagerConfig `yaml:"alertmanagers"`
}

type promAlertmanagerConfig struct {
	APIVersion    string             `yaml:"api_version"`
	StaticConfigs []promStaticConfig `yaml:"static_configs"`
}

type promScrapeConfig struct {
	JobName       string             `yaml:"job_name"`
	HonorLabels   bool               `yaml:"honor_labels"`
	StaticConfigs []promStaticConfig `yaml:"static_configs"`
}

type promStaticConfig struct {
	Targets []string `yaml:"targets"`
}

// prometheusConfig renders prometheus.yml for o.
func prometheusConfig(o PrometheusOptions) ([]byte, error) {
	cfg := promConfig{
		Global: promGlobal{
			ScrapeInterval:     model.Duration(cmpOr(o.ScrapeInterval, time.Second)),
			EvaluationInterval: model.Duration(cmpOr(o.EvaluationInterval, time.Second)),
		},
		RuleFiles: o.RuleFiles,
	}
	for _, f := range o.RuleFiles {
		if !filepath.IsAbs(f) {
			return nil, fmt.Errorf("rule file %q is not an absolute path", f)
		}
	}
	if len(o.AlertmanagerURLs) > 0 {
		targets := make([]string, 0, len(o.AlertmanagerURLs))
		for _, u := range o.AlertmanagerURLs {
			targets = append(targets, hostPort(u))
		}
		cfg.Alerting = &promAlerting{Alertmanagers: []promAlertmanagerConfig{{
			APIVersion:    "v2",
			StaticConfigs: []promStaticConfig{{Targets: targets}},
		}}}
	}
	if len(o.ScrapeTargets) > 0 {
		cfg.ScrapeConfigs = []promScrapeConfig{{
			JobName:       "testenv",
			HonorLabels:   true,
			StaticConfigs: []promStaticConfig{{Targets: slices.Clone(o.ScrapeTargets)}},
		}}
	}
	return yaml.Marshal(cfg)
}

// cmpOr returns d, or def if d is zero or negative.
func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// hostPort returns the host:port of s, which may be a URL or already
// host:port.
func hostPort(s string) string {
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return u.Host
		}
	}
	return s
}

// RunPrometheus starts bin (a Prometheus 2.x) on a free port of 127.0.0.1
// with a generated configuration, and waits up to 30s until /-/ready
// answers 200. The process gets SIGTERM when ctx ends; call Stop to stop it
// earlier and to collect its exit status.
func RunPrometheus(ctx context.Context, bin string, o PrometheusOptions) (*Prometheus, error) {
	dir, ownDir, err := workDir(o.Dir, "testenv-prometheus-")
	if err != nil {
		return nil, err
	}
	p := &Prometheus{server{Dir: dir, ConfigFile: filepath.Join(dir, "prometheus.yml"), client: newHTTPClient(), ownDir: ownDir}}
	cfg, err := prometheusConfig(o)
	if err == nil {
		err = os.WriteFile(p.ConfigFile, cfg, 0o644)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("write prometheus config: %w", err), p.removeDir())
	}
	proc, u, err := launch(ctx, launchSpec{
		name: "prometheus",
		bin:  bin,
		dir:  dir,
		sink: o.Stdout,
		args: func(listen string) []string {
			args := []string{
				"--config.file=" + p.ConfigFile,
				"--storage.tsdb.path=" + filepath.Join(dir, "data"),
				"--web.listen-address=" + listen,
				"--web.enable-lifecycle",
			}
			if o.ExternalURL != "" {
				args = append(args, "--web.external-url="+o.ExternalURL, "--web.route-prefix=/")
			}
			return append(args, o.ExtraArgs...)
		},
	})
	if err != nil {
		return nil, errors.Join(err, p.removeDir())
	}
	p.proc, p.URL = proc, u
	return p, nil
}

// StartPrometheus is RunPrometheus for tests: it finds the binary with
// Binary, uses a directory under t.TempDir() unless o.Dir is set, fails the
// test if Prometheus does not start, and stops it on cleanup. The output
// of a failed test's Prometheus is logged.
func StartPrometheus(t testing.TB, o PrometheusOptions) *Prometheus {
	t.Helper()
	bin := Binary(t, "prometheus")
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	p, err := RunPrometheus(t.Context(), bin, o)
	if err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	p.stopWithTest(t, "prometheus")
	return p
}

// postReload calls POST base/-/reload.
func postReload(ctx context.Context, client *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/-/reload", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reload: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// apiResponse is the envelope of Prometheus's /api/v1 responses.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// apiError is an error reported by Prometheus's API.
type apiError struct {
	typ string // errorType, e.g. "bad_data"
	msg string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

// Query runs the PromQL instant query expr at the current time
// (GET /api/v1/query) and returns its result, which must be an instant
// vector.
func (p *Prometheus) Query(ctx context.Context, expr string) (model.Vector, error) {
	u := p.URL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r apiResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("query %q: %s: decode response: %w", expr, resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %w", expr, resp.Status, &apiError{typ: r.ErrorType, msg: r.Error})
	}
	if r.Data.ResultType != model.ValVector.String() {
		return nil, fmt.Errorf("query %q: result type %s, want vector", expr, r.Data.ResultType)
	}
	var v model.Vector
	if err := json.Unmarshal(r.Data.Result, &v); err != nil {
		return nil, fmt.Errorf("query %q: decode vector: %w", expr, err)
	}
	return v, nil
}

// WaitForScrape polls /api/v1/query until the series selector returns at
// least one sample. It gives up when ctx ends, or after 30s if ctx has no
// deadline. A selector Prometheus rejects fails at once.
func (p *Prometheus) WaitForScrape(ctx context.Context, series string) error {
	err := poll(ctx, func(ctx context.Context) (bool, error) {
		v, err := p.Query(ctx, series)
		if err != nil {
			if ae, ok := errors.AsType[*apiError](err); ok && ae.typ == "bad_data" {
				return false, permanent(err)
			}
			return false, err
		}
		if len(v) == 0 {
			return false, errors.New("no samples yet")
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s in prometheus at %s: %w", series, p.URL, err)
	}
	return nil
}
