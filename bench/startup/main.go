// Command startup measures how long alertd takes to start with a full store:
// 10,000 firing alerts of one rule and 10,000 silences, and how large the
// store is on disk. It fills the store through the running daemon (the
// datasource is a local server answering 10,000 series), stops it cleanly,
// then starts it again several times and measures, each time, app.New
// (opening and checking the store, loading the silences and the
// notification log, building everything) and the time until the first
// evaluation has restored and evaluated the 10,000 alerts.
//
//	go run ./bench/startup
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run() error {
	alerts := flag.Int("alerts", 10_000, "firing alerts stored")
	silences := flag.Int("silences", 10_000, "silences stored")
	runs := flag.Int("runs", 3, "measured starts")
	flag.Parse()

	dir, err := os.MkdirTemp("", "startup")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	// The datasource: every query answers alerts series.
	var body bytes.Buffer
	body.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	now := float64(time.Now().Unix())
	for i := range *alerts {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"metric":{"__name__":"load","instance":"i%d","job":"node"},"value":[%f,"1"]}`, i, now)
	}
	body.WriteString(`]}}`)
	ds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body.Bytes())
	}))
	defer ds.Close()

	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
- name: startup
  interval: 1s
  rules:
  - alert: Load
    expr: load > 0
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} is loaded"}
`), 0o600); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global: {evaluation_interval: 1s}
datasource: {url: %s}
rule_files: [rules.yml]
route: {receiver: none, group_by: [instance]}
receivers: [{name: none}]
`, ds.URL)), 0o600); err != nil {
		return err
	}
	opts := app.Options{
		ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), ListenAddress: "127.0.0.1:0",
		WatchInterval: -1, Logger: slog.New(slog.DiscardHandler),
	}
	client := &http.Client{Timeout: 30 * time.Second}

	// Fill the store.
	fmt.Printf("filling the store: %d firing alerts, %d silences\n", *alerts, *silences)
	a, err := app.New(opts)
	if err != nil {
		return err
	}
	stop, base, err := start(a)
	if err != nil {
		return err
	}
	begin := time.Now()
	for i := range *silences {
		sil := fmt.Sprintf(`{"matchers":[{"name":"instance","value":"s%d","isRegex":false,"isEqual":true}],"startsAt":%q,"endsAt":%q,"createdBy":"startup","comment":"bench"}`,
			i, time.Now().UTC().Format(time.RFC3339), time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
		resp, err := client.Post(base+"/api/v2/silences", "application/json", strings.NewReader(sil))
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST silence %d: %s", i, resp.Status)
		}
	}
	fmt.Printf("  %d silences created in %s\n", *silences, time.Since(begin).Round(time.Millisecond))
	if _, err := waitFiring(client, base, *alerts, time.Time{}); err != nil {
		return err
	}
	if err := stop(); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(dir, "data", store.FileName))
	if err != nil {
		return err
	}
	fmt.Printf("  store on disk: %.1f MiB (%d bytes)\n\n", float64(fi.Size())/(1<<20), fi.Size())

	fmt.Println("run  app.New  first-evaluation-done  (slot wait  evaluation)")
	for r := 1; r <= *runs; r++ {
		t0 := time.Now()
		a, err := app.New(opts)
		if err != nil {
			return err
		}
		tNew := time.Since(t0)
		stop, base, err := start(a)
		if err != nil {
			return err
		}
		ev, err := waitFiring(client, base, *alerts, t0)
		if err != nil {
			return err
		}
		done := ev.last.Add(time.Duration(ev.seconds * float64(time.Second)))
		fmt.Printf("%3d  %7s  %21s  (%9s  %10s)\n", r, tNew.Round(time.Millisecond), done.Sub(t0).Round(time.Millisecond),
			ev.last.Sub(t0).Round(time.Millisecond), time.Duration(ev.seconds*float64(time.Second)).Round(time.Millisecond))
		if err := stop(); err != nil {
			return err
		}
	}
	return nil
}

// start runs a and returns how to stop it and its base URL.
func start(a *app.App) (func() error, string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-done:
		cancel()
		return nil, "", err
	case <-time.After(30 * time.Second):
		cancel()
		return nil, "", errors.New("alertd did not start within 30s")
	}
	return func() error { cancel(); return <-done }, "http://" + a.Addr(), nil
}

type evaluation struct {
	last    time.Time
	seconds float64
}

// waitFiring waits until the rule has n firing alerts in an evaluation after
// after and returns that evaluation.
func waitFiring(client *http.Client, base string, n int, after time.Time) (evaluation, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var resp struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						LastEvaluation time.Time `json:"lastEvaluation"`
						EvaluationTime float64   `json:"evaluationTime"`
						Alerts         []struct {
							State string `json:"state"`
						} `json:"alerts"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		r, err := client.Get(base + "/api/v1/rules")
		if err != nil {
			return evaluation{}, err
		}
		err = json.NewDecoder(r.Body).Decode(&resp)
		_ = r.Body.Close()
		if err != nil {
			return evaluation{}, err
		}
		if g := resp.Data.Groups; len(g) == 1 && len(g[0].Rules) == 1 {
			rule := g[0].Rules[0]
			firing := 0
			for _, a := range rule.Alerts {
				if a.State == "firing" {
					firing++
				}
			}
			if firing == n && rule.LastEvaluation.After(after) {
				return evaluation{last: rule.LastEvaluation, seconds: rule.EvaluationTime}, nil
			}
		}
		<-time.After(20 * time.Millisecond)
	}
	return evaluation{}, fmt.Errorf("no evaluation with %d firing alerts within 2 minutes", n)
}
