package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAlertmanagerReload changes the routing on reload: alerts already
// received go to the new routes; a bad routing file keeps the running one.
func TestAlertmanagerReload(t *testing.T) {
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	dir := t.TempDir()
	routing := func(receiver string) string {
		return `route:
  receiver: ` + receiver + `
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 500ms
receivers:
- name: first
  webhook_configs: [{url: "` + sinkSrv.URL + `/alertd"}]
- name: second
  webhook_configs: [{url: "` + sinkSrv.URL + `/alertd"}]
`
	}
	_, base := startAlertd(t, dir, routing("first"))
	post := func(body string) { postAlerts(t, base, []byte(body)) }
	reload := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/-/reload", nil)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, ok func([]notification) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(sink.notifications("alertd")) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s: %+v", what, sink.notifications("alertd"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	post(`[{"labels":{"alertname":"A"}}]`)
	waitFor("notification to first", func(ns []notification) bool { return len(ns) > 0 && ns[0].Receiver == "first" })

	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, []byte(routing("second")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := reload(); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	// The stored alert is re-routed: the new group notifies "second".
	waitFor("notification to second", func(ns []notification) bool { return ns[len(ns)-1].Receiver == "second" })

	// A bad routing file keeps the running routes.
	if err := os.WriteFile(cfg, []byte(routing("nobody")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := reload(); code != http.StatusInternalServerError || !strings.Contains(body, `"nobody"`) {
		t.Fatalf("bad reload: %d %s", code, body)
	}
	post(`[{"labels":{"alertname":"B"}}]`)
	waitFor("B notified through the running routes", func(ns []notification) bool {
		for _, n := range ns {
			if n.Receiver == "second" && strings.Contains(strings.Join(n.Alerts, " "), "alertname:B") {
				return true
			}
		}
		return false
	})
}

// TestResolveTimeoutFollowsReload: alerts posted without endsAt get now +
// the resolve_timeout of the running configuration.
func TestResolveTimeoutFollowsReload(t *testing.T) {
	dir := t.TempDir()
	cfg := func(d string) string {
		return "global:\n  resolve_timeout: " + d + "\nroute: {receiver: r}\nreceivers: [{name: r}]\n"
	}
	a, base := startAlertd(t, dir, cfg("1m"))
	endsIn := func(name string) time.Duration {
		t.Helper()
		postAlerts(t, base, []byte(`[{"labels":{"alertname":"`+name+`"}}]`))
		var as []struct {
			Labels   map[string]string `json:"labels"`
			EndsAt   time.Time         `json:"endsAt"`
			StartsAt time.Time         `json:"startsAt"`
		}
		resp, err := http.DefaultTransport.RoundTrip(mustRequest(t, base+"/api/v2/alerts"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &as); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		for _, x := range as {
			if x.Labels["alertname"] == name {
				return x.EndsAt.Sub(x.StartsAt).Round(time.Second)
			}
		}
		t.Fatalf("alert %s not listed: %s", name, b)
		return 0
	}
	if d := endsIn("First"); d != time.Minute {
		t.Errorf("endsAt - startsAt = %v, want 1m", d)
	}
	if err := os.WriteFile(filepath.Join(dir, "alertd.yml"), []byte(cfg("3m")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if d := endsIn("Second"); d != 3*time.Minute {
		t.Errorf("after the reload: endsAt - startsAt = %v, want 3m", d)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
