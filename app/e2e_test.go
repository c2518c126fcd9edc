package app_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// TestRulesToWebhook runs the whole path of alertd run: a rule evaluated
// against a real Prometheus fires, is routed, grouped and delivered to a
// webhook; when the series recovers the resolved notification follows.
func TestRulesToWebhook(t *testing.T) {
	target := testenv.NewTarget(t)
	target.Set(`e2e_up{job="e2e",instance="h1"}`, 0)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}})
	if err := prom.WaitForScrape(t.Context(), "e2e_up"); err != nil {
		t.Fatal(err)
	}
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	dir := t.TempDir()
	write(t, dir+"/rules.yml", `groups:
- name: e2e
  interval: 1s
  rules:
  - alert: E2EDown
    expr: e2e_up == 0
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} down"}
`)
	startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: 1s
  external_labels: {region: eu-1}
datasource: {url: %s}
rule_files: [rules.yml]
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
receivers:
- name: ops
  webhook_configs: [{url: %q, send_resolved: true}]
`, prom.URL, sinkSrv.URL+"/alertd"))

	wait := func(what string, ok func([]notification) bool) []notification {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ns := sink.notifications("alertd")
			if ok(ns) {
				return ns
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 20s; notifications: %+v", what, ns)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ns := wait("firing notification", func(ns []notification) bool { return len(ns) > 0 })
	first := ns[0]
	if first.Receiver != "ops" || first.Status != "firing" || len(first.Alerts) != 1 ||
		!strings.Contains(first.Alerts[0], "alertname:E2EDown") || !strings.Contains(first.Alerts[0], "region:eu-1") ||
		!strings.HasSuffix(first.Alerts[0], "=firing") {
		t.Errorf("first notification: %+v", first)
	}
	target.Set(`e2e_up{job="e2e",instance="h1"}`, 1)
	wait("resolved notification", func(ns []notification) bool {
		return ns[len(ns)-1].Status == "resolved"
	})
}
