package app_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

const amtoolRouting = `route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  routes:
  - matchers: ['severity="page"']
    receiver: pager
receivers:
- name: team
  webhook_configs: [{url: "SINK/team"}]
- name: pager
  webhook_configs: [{url: "SINK/pager"}]
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
`

// TestAmtool drives alertd with the real amtool from Debian's
// prometheus-alertmanager, as an operator would.
func TestAmtool(t *testing.T) {
	bin := testenv.Binary(t, "amtool")
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	dir := t.TempDir()
	_, base := startAlertd(t, dir, strings.ReplaceAll(amtoolRouting, "SINK", sinkSrv.URL+"/alertd"))

	amtool := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"--alertmanager.url=" + base}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("amtool %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}

	// Silences: add, query, import, expire.
	id := strings.TrimSpace(amtool("silence", "add", "alertname=Silenced", "-c", "maintenance", "-a", "ops", "-d", "1h"))
	if len(id) != 36 {
		t.Fatalf("silence add printed %q, want a UUID", id)
	}
	var sils []struct {
		ID        string `json:"id"`
		CreatedBy string `json:"createdBy"`
		Status    struct {
			State string `json:"state"`
		} `json:"status"`
		Matchers []struct {
			Name, Value string
		} `json:"matchers"`
	}
	if err := json.Unmarshal([]byte(amtool("silence", "query", "-o", "json")), &sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].CreatedBy != "ops" || sils[0].Status.State != "active" || sils[0].Matchers[0].Value != "Silenced" {
		t.Errorf("silence query: %+v", sils)
	}
	export := filepath.Join(dir, "silences.json")
	if err := os.WriteFile(export, []byte(amtool("silence", "query", "-o", "json")), 0o600); err != nil {
		t.Fatal(err)
	}

	// Alerts: add, then query with the silenced and inhibited flags.
	amtool("alert", "add", "alertname=Silenced", "cluster=c1")
	amtool("alert", "add", "alertname=Crit", "severity=critical", "cluster=c1")
	amtool("alert", "add", "alertname=Warn", "severity=warning", "cluster=c1")
	amtool("alert", "add", "alertname=Page", "severity=page")
	names := func(args ...string) string {
		var as []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(amtool(append([]string{"alert", "query", "-o", "json"}, args...)...)), &as); err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, a := range as {
			ns = append(ns, a.Labels["alertname"]+":"+a.Status.State)
		}
		return strings.Join(ns, ",")
	}
	if got := names(); got != "Crit:active,Page:active" {
		t.Errorf("alert query: %s", got)
	}
	if got := names("--silenced"); !strings.Contains(got, "Silenced:suppressed") {
		t.Errorf("alert query --silenced: %s", got)
	}
	if got := names("--inhibited"); !strings.Contains(got, "Warn:suppressed") {
		t.Errorf("alert query --inhibited: %s", got)
	}

	// The configuration, as amtool reads it from /api/v2/status.
	if out := amtool("config", "show"); !strings.Contains(out, "receiver: team") || strings.Contains(out, sinkSrv.URL) {
		t.Errorf("config show (the webhook URL is a secret):\n%s", out)
	}
	if out := strings.TrimSpace(amtool("config", "routes", "test", "severity=page")); out != "pager" {
		t.Errorf("config routes test severity=page: %q", out)
	}

	// Expire, then import the export again: a new silence.
	amtool("silence", "expire", id)
	if out := strings.TrimSpace(amtool("silence", "query", "-q")); out != "" {
		t.Errorf("active silences after expire: %q", out)
	}
	amtool("silence", "import", "--force", export)
	if out := strings.TrimSpace(amtool("silence", "query", "-q")); len(out) != 36 || out == id {
		t.Errorf("silence after import: %q", out)
	}

	// Only the unmuted alerts were delivered, through the routes.
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.notifications("alertd")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	var delivered []string
	for _, n := range sink.notifications("alertd") {
		delivered = append(delivered, n.Receiver+":"+strings.Join(n.Alerts, " "))
	}
	got := strings.Join(delivered, "\n")
	if !strings.Contains(got, "pager:") || !strings.Contains(got, "alertname:Page") || !strings.Contains(got, "alertname:Crit") ||
		strings.Contains(got, "Silenced") || strings.Contains(got, "Warn") {
		t.Errorf("webhook notifications:\n%s", got)
	}
}
