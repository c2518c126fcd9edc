package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertd/alertd/app"
)

// startAlertd runs an App on a free port with the given alertd.yml and
// returns its base URL. It stops with the test.
func startAlertd(t *testing.T, dir, configYAML string) (*app.App, string) {
	t.Helper()
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{
		ConfigFile:    cfg,
		StoragePath:   filepath.Join(dir, "data"),
		ListenAddress: "127.0.0.1:0",
		ExternalURL:   "http://alertd.test:9095",
		WatchInterval: -1,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, app.RunForTest(t, a)
}

// apiAlert is an alert of /api/v1/alerts, of Prometheus or alertd.
type apiAlert struct {
	Labels          map[string]string `json:"labels"`
	Annotations     map[string]string `json:"annotations"`
	State           string            `json:"state"`
	ActiveAt        time.Time         `json:"activeAt"`
	KeepFiringSince *time.Time        `json:"keepFiringSince"`
	Value           string            `json:"value"`
}

type apiRule struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Health    string     `json:"health"`
	LastError string     `json:"lastError"`
	State     string     `json:"state"`
	Alerts    []apiAlert `json:"alerts"`
	LastEval  time.Time  `json:"lastEvaluation"`
}

type apiGroup struct {
	Name  string    `json:"name"`
	File  string    `json:"file"`
	Rules []apiRule `json:"rules"`
}

// getV2 decodes the JSON answer of a GET (the API v2's, the
// notifications').
func getV2(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// getJSON decodes the data of one of the API v1's answers.
func getJSON(ctx context.Context, url string, data any) error {
	env := struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}{}
	if err := getV2(ctx, url, &env); err != nil {
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: status %q", url, env.Status)
	}
	return json.Unmarshal(env.Data, data)
}

func alerts(ctx context.Context, base string) ([]apiAlert, error) {
	var d struct {
		Alerts []apiAlert `json:"alerts"`
	}
	err := getJSON(ctx, base+"/api/v1/alerts", &d)
	return d.Alerts, err
}

func ruleGroups(ctx context.Context, base string) ([]apiGroup, error) {
	var d struct {
		Groups []apiGroup `json:"groups"`
	}
	err := getJSON(ctx, base+"/api/v1/rules", &d)
	return d.Groups, err
}

// eventually polls fn every 100ms until it returns nil or the timeout
// passes; it returns the last error.
func eventually(ctx context.Context, timeout time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}

// postAlerts POSTs a JSON body to base's /api/v2/alerts and fails the test
// unless it is accepted.
func postAlerts(t *testing.T, base string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/api/v2/alerts: %s %s", base, resp.Status, b)
	}
}

// startApp runs alertd with config file cfg and storage under data, until
// the returned stop (which waits for Run to return) is called; it returns
// the base URL of its API.
func startApp(t *testing.T, cfg, data string) (string, func()) {
	t.Helper()
	a, err := app.New(app.Options{
		ConfigFile:    cfg,
		StoragePath:   data,
		ListenAddress: "127.0.0.1:0",
		WatchInterval: -1,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-done:
		t.Fatalf("alertd stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("alertd did not start within 10s")
	}
	return "http://" + a.Addr(), func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("alertd did not stop within 20s")
		}
	}
}
