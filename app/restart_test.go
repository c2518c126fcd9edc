package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertd/alertd/app"
)

// TestRestartDoesNotPageAgain restarts alertd in the middle of a group:
// the notification log and the silences are in --storage.path, so the
// re-sent alert is not notified again and the silence still holds.
func TestRestartDoesNotPageAgain(t *testing.T) {
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertd.yml")
	write(t, cfg, `route:
  receiver: ops
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: ops
  webhook_configs: [{url: "`+sinkSrv.URL+`/alertd"}]
`)
	start := func() (string, func()) { return startApp(t, cfg, filepath.Join(dir, "data")) }
	post := func(base, body string) { postAlerts(t, base, []byte(body)) }
	startsAt := time.Now().UTC().Format(time.RFC3339)
	alerts := `[{"labels":{"alertname":"Disk","instance":"a"},"startsAt":"` + startsAt + `"}]`

	base, stop := start()
	post(base, alerts)
	// A silence for another alert, to see it survive.
	silence := `{"matchers":[{"name":"alertname","value":"Muted","isRegex":false,"isEqual":true}],"startsAt":"` + startsAt +
		`","endsAt":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `","createdBy":"t","comment":"c"}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/api/v2/silences", bytes.NewReader([]byte(silence)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST silence: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.notifications("alertd")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(sink.notifications("alertd")); n != 1 {
		t.Fatalf("%d notifications before the restart, want 1", n)
	}
	stop()

	// The sender re-sends the same alert to the restarted daemon, plus the
	// silenced one; the group flushes at once (the alert is older than
	// group_wait) and every second after.
	base, stop = start()
	defer stop()
	post(base, alerts)
	post(base, `[{"labels":{"alertname":"Muted"},"startsAt":"`+startsAt+`"}]`)
	time.Sleep(3 * time.Second)
	if ns := sink.notifications("alertd"); len(ns) != 1 {
		t.Errorf("notifications after the restart: %+v, want only the one before", ns)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data", "alertd.db")); err != nil || len(b) == 0 {
		t.Errorf("no state in the storage path: %v", err)
	}
}

// TestShutdownLetsNotificationsFinish stops alertd while a notification is
// under way to a slow receiver: the notification completes (the receiver
// answers it), then Run returns.
func TestShutdownLetsNotificationsFinish(t *testing.T) {
	entered := make(chan struct{}, 1)
	var answered atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-time.After(2 * time.Second):
			answered.Add(1)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertd.yml")
	write(t, cfg, `route: {receiver: ops, group_wait: 100ms}
receivers:
- name: ops
  webhook_configs: [{url: "`+slow.URL+`/hook"}]
`)
	a, err := app.New(app.Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), ListenAddress: "127.0.0.1:0", WatchInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("alertd did not start")
	}
	postAlerts(t, "http://"+a.Addr(), []byte(`[{"labels":{"alertname":"Slow"}}]`))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the notification did not start")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(app.DrainTimeout + 20*time.Second):
		t.Fatal("alertd did not stop")
	}
	if answered.Load() != 1 {
		t.Error("the notification under way was cancelled by the shutdown")
	}
}
