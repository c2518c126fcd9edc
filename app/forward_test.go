package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/alertd/alertd/internal/testenv"
)

// TestForwardToAlertmanager checks that a real Alertmanager 0.25 receives
// alertd's alerts as Prometheus would send them: labels with the external
// labels, annotations, startsAt = the time the alert fired, endsAt =
// send time + 4 × max(interval, resend_delay); and that a resolved alert
// ends there.
func TestForwardToAlertmanager(t *testing.T) {
	amtool := testenv.Binary(t, "amtool")
	target := testenv.NewTarget(t)
	target.Set(`fwd_up{job="fwd",instance="x:1"}`, 0)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}})
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{})
	ctx := t.Context()
	if err := prom.WaitForScrape(ctx, "fwd_up"); err != nil {
		t.Fatal(err)
	}
	amURL, err := url.Parse(am.URL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir+"/rules.yml", `groups:
- name: fwd
  interval: 1s
  rules:
  - alert: FwdDown
    expr: fwd_up == 0
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} is down"}
`)
	_, base := startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: 1s
  external_labels: {region: eu-1}
datasource: {url: %s}
rule_files: [rules.yml]
alertmanagers:
- static_configs: [{targets: [%q]}]
`, prom.URL, amURL.Host))

	cl := amclient.NewHTTPClientWithConfig(strfmt.Default, amclient.DefaultTransportConfig().WithHost(amURL.Host).WithSchemes([]string{"http"}))
	getAlerts := func(ctx context.Context) (models.GettableAlerts, error) {
		res, err := cl.Alert.GetAlerts(amalert.NewGetAlertsParamsWithContext(ctx))
		if err != nil {
			return nil, err
		}
		return res.Payload, nil
	}

	var got *models.GettableAlert
	if err := eventually(ctx, 15*time.Second, func(ctx context.Context) error {
		as, err := getAlerts(ctx)
		if err != nil {
			return err
		}
		if len(as) != 1 {
			return fmt.Errorf("%d alerts in Alertmanager", len(as))
		}
		got = as[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantLabels := models.LabelSet{"alertname": "FwdDown", "instance": "x:1", "job": "fwd", "severity": "page", "region": "eu-1"}
	if fmt.Sprint(got.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", got.Labels, wantLabels)
	}
	if got.Annotations["summary"] != "x:1 is down" {
		t.Errorf("annotations %v", got.Annotations)
	}
	ours, err := alerts(ctx, base)
	if err != nil || len(ours) != 1 {
		t.Fatalf("alertd alerts: %v %v", ours, err)
	}
	startsAt, endsAt := time.Time(*got.StartsAt), time.Time(*got.EndsAt)
	// for: 0: the alert fired in the evaluation it became active.
	if !startsAt.Equal(ours[0].ActiveAt.Truncate(time.Millisecond)) && !startsAt.Equal(ours[0].ActiveAt) {
		t.Errorf("startsAt %v, want alertd's activeAt %v", startsAt, ours[0].ActiveAt)
	}
	// Sent once so far (resend_delay 1m): endsAt = startsAt + 4 × 1m.
	if d := endsAt.Sub(startsAt); d < 4*time.Minute-time.Millisecond || d > 4*time.Minute+time.Millisecond {
		t.Errorf("endsAt - startsAt = %v, want 4m", d)
	}
	if got.GeneratorURL == "" || !containsAll(string(got.GeneratorURL), "http://alertd.test:9095/graph?g0.expr=", "g0.tab=1") {
		t.Errorf("generatorURL %q", got.GeneratorURL)
	}

	// amtool, as an operator would use it, sees the alert too.
	out, err := exec.CommandContext(ctx, amtool, "--alertmanager.url="+am.URL, "alert", "query", "-o", "json").Output()
	if err != nil {
		t.Fatalf("amtool: %v", err)
	}
	var amtoolAlerts []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(out, &amtoolAlerts); err != nil {
		t.Fatalf("amtool output %q: %v", out, err)
	}
	if len(amtoolAlerts) != 1 || amtoolAlerts[0].Labels["alertname"] != "FwdDown" || amtoolAlerts[0].Labels["region"] != "eu-1" {
		t.Errorf("amtool sees %s", out)
	}

	// The series recovers: alertd sends the resolved alert at once and it
	// ends in Alertmanager.
	target.Set(`fwd_up{job="fwd",instance="x:1"}`, 1)
	if err := eventually(ctx, 15*time.Second, func(ctx context.Context) error {
		as, err := getAlerts(ctx)
		if err != nil {
			return err
		}
		for _, a := range as {
			if time.Time(*a.EndsAt).After(time.Now()) {
				return fmt.Errorf("alert still active in Alertmanager, endsAt %v", time.Time(*a.EndsAt))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
