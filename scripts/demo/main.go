// Command demo runs alertd end to end against a real Prometheus and a real
// Alertmanager on loopback, and narrates what happens. See scripts/demo.sh.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	alertdBin := flag.String("alertd", "bin/alertd", "the alertd binary")
	rulesFile := flag.String("rules", "examples/rules/demo.yml", "the rule file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "alertd-demo")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ruleText, err := os.ReadFile(*rulesFile)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.yml"), ruleText, 0o600); err != nil {
		return err
	}

	say("starting a scrape target with demo_temperature_celsius{room=\"lab\"} = 21")
	target, err := testenv.NewTargetServer("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = target.Close() }()
	target.Set(`demo_temperature_celsius{job="demo",room="lab"}`, 21)

	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return err
	}
	prom, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}, Stdout: io.Discard})
	if err != nil {
		return err
	}
	defer func() { _ = prom.Stop() }()
	say("Prometheus 2.42 is up at " + prom.URL)
	amBin, err := testenv.FindBinary("prometheus-alertmanager")
	if err != nil {
		return err
	}
	am, err := testenv.RunAlertmanager(ctx, amBin, testenv.AlertmanagerOptions{Stdout: io.Discard})
	if err != nil {
		return err
	}
	defer func() { _ = am.Stop() }()
	say("Alertmanager 0.25 is up at " + am.URL)
	if err := prom.WaitForScrape(ctx, "demo_temperature_celsius"); err != nil {
		return err
	}

	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `global:
  evaluation_interval: 2s
  external_labels: {region: demo}
datasource: {url: %s}
rule_files: [demo.yml]
alertmanagers:
- static_configs: [{targets: [%q]}]
`, prom.URL, strings.TrimPrefix(am.URL, "http://")), 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, *alertdBin, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	say("alertd run is up at " + base + " with " + *rulesFile)
	if err := waitFor(ctx, "alertd ready", func() (bool, error) {
		resp, err := get(ctx, base+"/-/ready")
		return err == nil && resp != "", nil
	}); err != nil {
		return err
	}

	say("heating the lab up to 35°C")
	target.Set(`demo_temperature_celsius{job="demo",room="lab"}`, 35)
	if err := waitAlert(ctx, base, "DemoTemperatureHigh", "pending"); err != nil {
		return err
	}
	if err := waitAlert(ctx, base, "DemoTemperatureHigh", "firing"); err != nil {
		return err
	}
	if err := waitFor(ctx, "the alert in Alertmanager", func() (bool, error) {
		out, err := exec.CommandContext(ctx, "amtool", "--alertmanager.url="+am.URL, "alert", "query").CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("amtool: %w: %s", err, out)
		}
		if strings.Contains(string(out), "DemoTemperatureHigh") {
			say("amtool alert query:\n" + indent(string(out)))
			return true, nil
		}
		return false, nil
	}); err != nil {
		return err
	}

	say("cooling the lab down to 20°C: keep_firing_for holds the alert 4s, then it resolves")
	target.Set(`demo_temperature_celsius{job="demo",room="lab"}`, 20)
	if err := waitFor(ctx, "the alert to resolve", func() (bool, error) {
		as, err := alerts(ctx, base)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			if a.Labels["alertname"] == "DemoTemperatureHigh" {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	say("resolved; alertd sent the resolved alert to Alertmanager")
	out, err := exec.CommandContext(ctx, "amtool", "--alertmanager.url="+am.URL, "alert", "query").CombinedOutput()
	if err != nil {
		return fmt.Errorf("amtool: %w: %s", err, out)
	}
	say("amtool alert query (active alerts):\n" + indent(string(out)))
	body, err := get(ctx, base+"/api/v1/rules")
	if err != nil {
		return err
	}
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Type, Health, LastError string
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &rules); err != nil {
		return err
	}
	say("the rules as /api/v1/rules lists them:")
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			fmt.Printf("    %-22s %-10s health=%s %s\n", r.Name, r.Type, r.Health, r.LastError)
		}
	}
	say("demo done")
	return nil
}

type apiAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

func alerts(ctx context.Context, base string) ([]apiAlert, error) {
	body, err := get(ctx, base+"/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct {
			Alerts []apiAlert `json:"alerts"`
		} `json:"data"`
	}
	return r.Data.Alerts, json.Unmarshal([]byte(body), &r)
}

func waitAlert(ctx context.Context, base, name, state string) error {
	return waitFor(ctx, name+" "+state, func() (bool, error) {
		as, err := alerts(ctx, base)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			if a.Labels["alertname"] == name && a.State == state {
				keys := make([]string, 0, len(a.Labels))
				for k := range a.Labels {
					keys = append(keys, k+"="+a.Labels[k])
				}
				sort.Strings(keys)
				say(fmt.Sprintf("alertd: %s is %s {%s}: %s", name, state, strings.Join(keys, ", "), a.Annotations["summary"]))
				return true, nil
			}
		}
		return false, nil
	})
}

func waitFor(ctx context.Context, what string, fn func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		ok, err := fn()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

func say(s string) { fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), s) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
