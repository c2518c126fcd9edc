package webhook_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/testenv"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

// TestSameMessageAsAlertmanager sends the same alerts through a real
// Alertmanager (Debian's 0.25) and through alertd's pipeline to two
// webhook receivers and compares the messages: keys, key order and
// values.
func TestSameMessageAsAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Alertmanager")
	}
	amReceiver := newReceiver(t, nil)
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{ConfigYAML: fmt.Sprintf(`
route:
  receiver: team.x
  group_by: [alertname]
  group_wait: 3s
receivers:
  - name: team.x
    webhook_configs:
      - url: %s/hook
`, amReceiver.srv.URL)})

	// Times in milliseconds, as the API carries them. Both alerts start
	// recently, so that the group waits its group_wait for both.
	now := time.Now().UTC().Truncate(time.Millisecond)
	alerts := []*alert.Alert{
		{
			Labels:       labels.FromStrings("alertname", "Down", "instance", "a:9100", "job", "node"),
			Annotations:  labels.FromStrings("summary", "a is down", "runbook", "https://wiki/?a=1&b=<2>"),
			StartsAt:     now,
			GeneratorURL: generatorURL,
		},
		{
			Labels:       labels.FromStrings("alertname", "Down", "instance", "b:9100", "job", "node"),
			Annotations:  labels.FromStrings("summary", "b is down"),
			StartsAt:     now.Add(-time.Second),
			EndsAt:       now.Add(-500 * time.Millisecond),
			GeneratorURL: generatorURL,
		},
	}
	postAlerts(t, am.URL, alerts)
	want := amReceiver.next(t, 30*time.Second)

	var amMsg struct {
		GroupKey string `json:"groupKey"`
	}
	if err := json.Unmarshal(want.body, &amMsg); err != nil {
		t.Fatal(err)
	}
	ours := newReceiver(t, nil)
	n := &alert.Notification{
		GroupKey:       amMsg.GroupKey,
		GroupLabels:    labels.FromStrings("alertname", "Down"),
		Receiver:       "team.x",
		RepeatInterval: 4 * time.Hour,
		Now:            time.Now(),
		// The dispatcher zeroes the EndsAt of firing alerts.
		Alerts: alerts,
	}
	w, err := webhook.New(0, webhook.Config{URL: ours.srv.URL + "/hook", SendResolved: true}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPipeline(t, notify.Options{Receivers: map[string][]notify.Integration{n.Receiver: {w}}, ExternalURL: am.URL})
	if err := p.Notify(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	got := ours.next(t, 5*time.Second)

	if d := cmp.Diff(decode(t, want.body), decode(t, got.body)); d != "" {
		t.Errorf("message (-alertmanager +alertd):\n%s\nalertmanager sent %s", d, want.body)
	}
	if d := cmp.Diff(keyOrder(t, want.body), keyOrder(t, got.body)); d != "" {
		t.Errorf("key order (-alertmanager +alertd):\n%s", d)
	}
	if want.header.Get("Content-Type") != got.header.Get("Content-Type") {
		t.Errorf("Content-Type %q, Alertmanager's %q", got.header.Get("Content-Type"), want.header.Get("Content-Type"))
	}
}

// postAlerts posts alerts to an Alertmanager's API v2.
func postAlerts(t *testing.T, base string, alerts []*alert.Alert) {
	t.Helper()
	type postable struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       *time.Time        `json:"endsAt,omitempty"`
		GeneratorURL string            `json:"generatorURL"`
	}
	var body []postable
	for _, a := range alerts {
		pa := postable{Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL}
		if !a.EndsAt.IsZero() {
			pa.EndsAt = &a.EndsAt
		}
		body = append(body, pa)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/api/v2/alerts", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}
}
