package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/go-cmp/cmp"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amsilence "github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/alertd/alertd/internal/testenv"
)

// webhookSink records the webhook notifications of two systems, told apart
// by the first path segment (/am/... and /alertd/...).
type webhookSink struct {
	start time.Time
	mu    sync.Mutex
	got   map[string][]notification
}

type notification struct {
	At       time.Duration
	Receiver string
	Status   string
	Group    map[string]string
	Alerts   []string // labels=status
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Receiver    string            `json:"receiver"`
		Status      string            `json:"status"`
		GroupLabels map[string]string `json:"groupLabels"`
		Alerts      []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
		Version string `json:"version"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := notification{At: time.Since(s.start), Receiver: msg.Receiver, Status: msg.Status, Group: msg.GroupLabels}
	for _, a := range msg.Alerts {
		n.Alerts = append(n.Alerts, fmt.Sprint(a.Labels)+"="+a.Status)
	}
	system := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	s.mu.Lock()
	s.got[system] = append(s.got[system], n)
	s.mu.Unlock()
}

func (s *webhookSink) notifications(system string) []notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[system])
}

const amRouting = `route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: ['severity="page"']
    receiver: pager
    group_by: [alertname, cluster]
    continue: true
  - matchers: ['team="db"']
    receiver: db
receivers:
- name: default
  webhook_configs: [{url: "SINK/default", send_resolved: true}]
- name: pager
  webhook_configs: [{url: "SINK/pager", send_resolved: true}]
- name: db
  webhook_configs: [{url: "SINK/db", send_resolved: false}]
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
`

// TestDifferentialAlertmanager sends the same alert stream to a real
// Alertmanager 0.25 and to alertd, with the same routing (nested routes
// with continue, group_by, an inhibit rule) and the same silence, and
// compares the webhook notifications each delivers.
func TestDifferentialAlertmanager(t *testing.T) {
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)

	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{ConfigYAML: strings.ReplaceAll(amRouting, "SINK", sinkSrv.URL+"/am")})
	dir := t.TempDir()
	_, base := startAlertd(t, dir, strings.ReplaceAll(amRouting, "SINK", sinkSrv.URL+"/alertd"))
	ctx := t.Context()

	silence := &models.PostableSilence{Silence: models.Silence{
		Matchers:  models.Matchers{{Name: ptr("alertname"), Value: ptr("Silenced"), IsEqual: ptr(true), IsRegex: ptr(false)}},
		StartsAt:  ptrTime(time.Now().Add(-time.Minute)),
		EndsAt:    ptrTime(time.Now().Add(time.Hour)),
		CreatedBy: ptr("test"),
		Comment:   ptr("differential"),
	}}
	for _, u := range []string{am.URL, base} {
		pu, _ := url.Parse(u)
		cl := amclient.NewHTTPClientWithConfig(strfmt.Default, amclient.DefaultTransportConfig().WithHost(pu.Host).WithSchemes([]string{"http"}))
		if _, err := cl.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(silence)); err != nil {
			t.Fatalf("post silence to %s: %v", u, err)
		}
	}

	post := func(alerts []map[string]any) {
		t.Helper()
		body, err := json.Marshal(alerts)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{am.URL, base} {
			postAlerts(t, u, body)
		}
	}
	now := time.Now()
	alertJSON := func(endsAt time.Time, kv ...string) map[string]any {
		ls := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			ls[kv[i]] = kv[i+1]
		}
		return map[string]any{"labels": ls, "startsAt": now.Format(time.RFC3339Nano), "endsAt": endsAt.Format(time.RFC3339Nano)}
	}
	later := now.Add(time.Hour)
	stream := []map[string]any{
		alertJSON(later, "alertname", "HighCPU", "cluster", "c1", "severity", "page"),
		alertJSON(later, "alertname", "HighCPU", "cluster", "c2", "severity", "page"),
		alertJSON(later, "alertname", "DBSlow", "team", "db", "cluster", "c1", "severity", "warning"),
		alertJSON(later, "alertname", "DBSlow", "team", "db", "cluster", "c2", "severity", "warning"),
		alertJSON(later, "alertname", "Crit", "cluster", "c1", "severity", "critical"),
		alertJSON(later, "alertname", "Silenced", "cluster", "c1"),
	}
	post(stream)
	time.Sleep(4 * time.Second) // group_wait and one group_interval
	// HighCPU c1 resolves.
	resolved := alertJSON(time.Now(), "alertname", "HighCPU", "cluster", "c1", "severity", "page")
	post([]map[string]any{resolved})
	time.Sleep(5 * time.Second)

	norm := func(ns []notification) []notification {
		out := make([]notification, 0, len(ns))
		for _, n := range ns {
			n.At = 0
			slices.Sort(n.Alerts)
			out = append(out, n)
		}
		slices.SortStableFunc(out, func(a, b notification) int {
			return strings.Compare(a.Receiver+fmt.Sprint(a.Group), b.Receiver+fmt.Sprint(b.Group))
		})
		return out
	}
	want, got := sink.notifications("am"), sink.notifications("alertd")
	if len(want) == 0 {
		t.Fatal("Alertmanager sent nothing")
	}
	if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
		t.Errorf("notifications (-alertmanager +alertd):\n%s", diff)
	}
	// Timing: the n-th notification of each receiver and group within a
	// second of Alertmanager's.
	byKey := func(ns []notification) map[string][]time.Duration {
		m := map[string][]time.Duration{}
		for _, n := range ns {
			k := n.Receiver + fmt.Sprint(n.Group)
			m[k] = append(m[k], n.At)
		}
		return m
	}
	wt, gt := byKey(want), byKey(got)
	for k, ws := range wt {
		for i, w := range ws {
			if i < len(gt[k]) && (gt[k][i]-w).Abs() > time.Second {
				t.Errorf("%s: notification %d at %v, Alertmanager's at %v", k, i, gt[k][i], w)
			}
		}
	}
	for _, n := range norm(want) {
		t.Logf("%s %s %v %v", n.Receiver, n.Status, n.Group, n.Alerts)
	}
	t.Logf("%d notifications identical", len(want))
}

func ptr[T any](v T) *T { return &v }

func ptrTime(t time.Time) *strfmt.DateTime {
	d := strfmt.DateTime(t)
	return &d
}
