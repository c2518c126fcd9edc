package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
)

// getJSON decodes the JSON answer of GET url into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := newHTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func TestPrometheusScrapesTargetAndSendsAlerts(t *testing.T) {
	t.Parallel()
	start := time.Now()
	am := StartAlertmanager(t, AlertmanagerOptions{})
	tg := NewTarget(t)
	tg.Set(`testenv_probe{instance="a",job="x"}`, 4)

	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte(`groups:
  - name: testenv
    rules:
      - alert: TestenvProbeHigh
        expr: testenv_probe > 10
        labels: {severity: page}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := StartPrometheus(t, PrometheusOptions{
		ScrapeTargets:    []string{tg.HostPort},
		RuleFiles:        []string{rules},
		AlertmanagerURLs: []string{am.URL},
		ExternalURL:      "http://prometheus.example.org/prom",
	})

	t.Logf("prometheus ready after %v", time.Since(start))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := prom.WaitForScrape(ctx, `testenv_probe{job="x"}`); err != nil {
		t.Fatal(err)
	}
	t.Logf("first scrape seen after %v", time.Since(start))
	v, err := prom.Query(ctx, `testenv_probe`)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Metric{"__name__": "testenv_probe", "instance": "a", "job": "x"}
	if len(v) != 1 || !v[0].Metric.Equal(want) || v[0].Value != 4 {
		t.Fatalf("query testenv_probe = %v, want %v => 4", v, want)
	}

	t.Run("value change is scraped", func(t *testing.T) {
		tg.Set(`testenv_probe{instance="a",job="x"}`, 7)
		if err := prom.WaitForScrape(ctx, `testenv_probe == 7`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("alert reaches alertmanager", func(t *testing.T) {
		tg.Set(`testenv_probe{instance="a",job="x"}`, 99)
		err := poll(ctx, func(ctx context.Context) (bool, error) {
			var alerts []struct {
				Labels       map[string]string `json:"labels"`
				GeneratorURL string            `json:"generatorURL"`
			}
			if err := getJSON(ctx, am.URL+"/api/v2/alerts", &alerts); err != nil {
				return false, err
			}
			for _, a := range alerts {
				if a.Labels["alertname"] == "TestenvProbeHigh" {
					if !strings.HasPrefix(a.GeneratorURL, "http://prometheus.example.org/prom/") {
						return false, permanent(fmt.Errorf("generatorURL %q does not use the external URL", a.GeneratorURL))
					}
					return true, nil
				}
			}
			return false, fmt.Errorf("%d alerts, none named TestenvProbeHigh", len(alerts))
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("alert in alertmanager after %v", time.Since(start))
	})

	t.Run("reload", func(t *testing.T) {
		if err := prom.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("bad selector fails at once", func(t *testing.T) {
		start := time.Now()
		err := prom.WaitForScrape(ctx, `testenv_probe{`)
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("WaitForScrape(bad selector) = %v after %v, want a quick error", err, time.Since(start))
		}
	})

	if err := prom.Stop(); err != nil {
		t.Errorf("Stop() = %v", err)
	}
	if err := prom.Stop(); err != nil {
		t.Errorf("second Stop() = %v", err)
	}
}

func TestAlertmanagerStatus(t *testing.T) {
	t.Parallel()
	am := StartAlertmanager(t, AlertmanagerOptions{})
	if _, err := FindBinary("alertmanager"); err != nil {
		t.Errorf("FindBinary(alertmanager) = %v, want the Debian prometheus-alertmanager", err)
	}
	var status struct {
		Cluster struct {
			Status string `json:"status"`
		} `json:"cluster"`
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if err := getJSON(t.Context(), am.URL+"/api/v2/status", &status); err != nil {
		t.Fatal(err)
	}
	if status.Cluster.Status != "disabled" {
		t.Errorf("cluster status = %q, want disabled", status.Cluster.Status)
	}
	if !strings.Contains(status.Config.Original, `receiver: "null"`) {
		t.Errorf("config = %q, want the default route to \"null\"", status.Config.Original)
	}
	if err := am.Reload(t.Context()); err != nil {
		t.Errorf("Reload() = %v", err)
	}
}

func TestRunAlertmanagerBadConfig(t *testing.T) {
	t.Parallel()
	bin := Binary(t, "prometheus-alertmanager")
	start := time.Now()
	am, err := RunAlertmanager(t.Context(), bin, AlertmanagerOptions{ConfigYAML: "route: [not, a, route]\n"})
	if err == nil {
		_ = am.Stop()
		t.Fatal("RunAlertmanager with a bad config succeeded")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "unmarshal") {
		t.Errorf("error %q does not say it exited and show the output", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v to notice the exit", time.Since(start))
	}
}

func TestRunAlertmanagerStopsWithContext(t *testing.T) {
	t.Parallel()
	bin := Binary(t, "prometheus-alertmanager")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	am, err := RunAlertmanager(ctx, bin, AlertmanagerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-am.proc.done:
	case <-time.After(2 * stopTimeout):
		t.Fatal("alertmanager still running after its context ended")
	}
	if err := am.Stop(); err != nil {
		t.Errorf("Stop() after cancel = %v", err)
	}
	if _, err := os.Stat(am.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("working directory %s still there: %v", am.Dir, err)
	}
}

func TestPrometheusConfig(t *testing.T) {
	got, err := prometheusConfig(PrometheusOptions{
		ScrapeTargets:      []string{"127.0.0.1:1"},
		EvaluationInterval: 90 * time.Second,
		RuleFiles:          []string{"/r/a.yml"},
		AlertmanagerURLs:   []string{"http://127.0.0.1:2", "127.0.0.1:3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `global:
    scrape_interval: 1s
    evaluation_interval: 1m30s
rule_files:
    - /r/a.yml
alerting:
    alertmanagers:
        - api_version: v2
          static_configs:
            - targets:
                - 127.0.0.1:2
                - 127.0.0.1:3
scrape_configs:
    - job_name: testenv
      honor_labels: true
      static_configs:
        - targets:
            - 127.0.0.1:1
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("prometheus.yml mismatch (-want +got):\n%s", diff)
	}
	if _, err := prometheusConfig(PrometheusOptions{RuleFiles: []string{"rel.yml"}}); err == nil {
		t.Error("relative rule file accepted")
	}
}
