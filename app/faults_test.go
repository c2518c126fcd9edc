package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDaemonSurvivesDatasourceFaults checks that a datasource that only
// answers with Prometheus's plain-text 503 makes the rule unhealthy, with
// the status in its last error, while the daemon stays up; and that the
// rule is healthy again once the datasource answers.
func TestDaemonSurvivesDatasourceFaults(t *testing.T) {
	unavailable := func(string) (int, string) { return http.StatusServiceUnavailable, "Service Unavailable" }
	prom := newFakePrometheus(t, unavailable)
	d := startDaemon(t, prom.URL, reloadRules, -1)

	ruleHealth := func(want, errWant string) func() error {
		return func() error {
			gs := d.rules(t)
			if len(gs) != 1 || len(gs[0].Rules) != 2 {
				return fmt.Errorf("groups %+v", gs)
			}
			for _, r := range gs[0].Rules {
				if r.Health != want || !strings.Contains(r.LastError, errWant) {
					return fmt.Errorf("rule %s: health %q, last error %q; want %q with %q", r.Name, r.Health, r.LastError, want, errWant)
				}
			}
			return nil
		}
	}
	eventually(t, 10*time.Second, ruleHealth("err", "503"))
	if code, body := request(t, http.MethodGet, d.base+"/-/healthy"); code != http.StatusOK {
		t.Errorf("GET /-/healthy: %d %s", code, body)
	}
	if code, body := request(t, http.MethodGet, d.base+"/-/ready"); code != http.StatusOK {
		t.Errorf("GET /-/ready: %d %s", code, body)
	}
	if code, body := request(t, http.MethodGet, d.base+"/api/v1/alerts"); code != http.StatusOK || strings.Contains(body, "alertname") {
		t.Errorf("GET /api/v1/alerts: %d %s, want no alerts", code, body)
	}

	prom.set(instanceDown)
	eventually(t, 10*time.Second, ruleHealth("ok", ""))
	if code, body := request(t, http.MethodGet, d.base+"/api/v1/alerts"); code != http.StatusOK || !strings.Contains(body, `"InstanceDown"`) {
		t.Errorf("GET /api/v1/alerts: %d %s, want InstanceDown", code, body)
	}
}
