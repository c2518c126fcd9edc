package pagerduty_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/pagerdutytest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/pagerduty"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// routingKey is a well-formed routing key (32 characters), which the fake
// Events API accepts.
const routingKey = "R0UT1NGKEYa1b2c3d4e5f6a7b8c9d0e1"

// dedupKey computes the dedup_key Alertmanager sends for a group:
// notify.Key(groupKey).Hash(), the hex SHA-256 of the key.
func dedupKey(groupKey string) string {
	sum := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(sum[:])
}

func mustNew(t *testing.T, c pagerduty.Config, o pagerduty.Options) *pagerduty.Notifier {
	t.Helper()
	n, err := pagerduty.New(0, c, o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// logBuffer returns a debug logger writing to the returned buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

const groupKey = `{}/{severity="page"}:{alertname="Down"}`

// ignoreReceipt leaves out of comparisons of events how they were
// received, to compare what was sent.
var ignoreReceipt = cmpopts.IgnoreFields(pagerdutytest.Event{}, "Header", "Raw", "ReceivedAt")

// groupData is the data of group Down with two alerts, firing or
// resolved, and extra annotations on the first.
func groupData(resolved bool, extra notify.KV) *notify.Data {
	status, end := notify.StatusFiring, time.Time{}
	if resolved {
		status, end = notify.StatusResolved, t0.Add(10*time.Minute)
	}
	ann := notify.KV{"summary": "a is down"}
	for k, v := range extra {
		ann[k] = v
	}
	return &notify.Data{
		Receiver: "team-x",
		Status:   status,
		Alerts: []notify.DataAlert{
			{
				Status:       status,
				Labels:       notify.KV{"alertname": "Down", "instance": "a:9100", "job": "node", "severity": "page"},
				Annotations:  ann,
				StartsAt:     t0,
				EndsAt:       end,
				GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
				Fingerprint:  "1111111111111111",
			},
			{
				Status:       status,
				Labels:       notify.KV{"alertname": "Down", "instance": "b:9100", "job": "node", "severity": "page"},
				Annotations:  notify.KV{"summary": "b is down"},
				StartsAt:     t0,
				EndsAt:       end,
				GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
				Fingerprint:  "2222222222222222",
			},
		},
		GroupLabels:       notify.KV{"alertname": "Down"},
		CommonLabels:      notify.KV{"alertname": "Down", "job": "node", "severity": "page"},
		CommonAnnotations: notify.KV{},
		ExternalURL:       "http://alertd.example.org:9093",
		GroupKey:          groupKey,
	}
}

// alertJSON is an alert of groupData as Alertmanager's toJson writes it.
func alertJSON(instance, fingerprint string, resolved bool) map[string]any {
	status, end := "firing", "0001-01-01T00:00:00Z"
	if resolved {
		status, end = "resolved", "2026-03-02T10:10:00Z"
	}
	return map[string]any{
		"status":       status,
		"labels":       map[string]any{"alertname": "Down", "instance": instance, "job": "node", "severity": "page"},
		"annotations":  map[string]any{"summary": instance[:1] + " is down"},
		"startsAt":     "2026-03-02T10:00:00Z",
		"endsAt":       end,
		"generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
		"fingerprint":  fingerprint,
	}
}

// TestContent checks the event of a notification against the one
// Alertmanager sends for the same configuration.
func TestContent(t *testing.T) {
	defaultFiring := map[string]any{
		"firing":       []any{alertJSON("a:9100", "1111111111111111", false), alertJSON("b:9100", "2222222222222222", false)},
		"resolved":     []any{},
		"num_firing":   float64(2),
		"num_resolved": float64(0),
	}
	for _, tc := range []struct {
		name     string
		conf     pagerduty.Config
		ua       string
		resolved bool
		want     pagerdutytest.Event
		wantUA   string
		wantLog  string
	}{
		{
			name: "defaults",
			conf: pagerduty.Config{RoutingKey: routingKey},
			want: pagerdutytest.Event{
				RoutingKey:  routingKey,
				EventAction: "trigger",
				DedupKey:    dedupKey(groupKey),
				Client:      "Alertmanager",
				ClientURL:   "http://alertd.example.org:9093/#/alerts?receiver=team-x",
				Payload: pagerdutytest.Payload{
					Summary:       "[FIRING:2] Down (node page)",
					Source:        "Alertmanager",
					Severity:      "error",
					CustomDetails: defaultFiring,
				},
			},
			wantUA: "alertd/",
		},
		{
			name:     "resolved",
			conf:     pagerduty.Config{RoutingKey: routingKey},
			resolved: true,
			want: pagerdutytest.Event{
				RoutingKey:  routingKey,
				EventAction: "resolve",
				DedupKey:    dedupKey(groupKey),
				Client:      "Alertmanager",
				ClientURL:   "http://alertd.example.org:9093/#/alerts?receiver=team-x",
				Payload: pagerdutytest.Payload{
					Summary:  "[RESOLVED] Down (node page)",
					Source:   "Alertmanager",
					Severity: "error",
					CustomDetails: map[string]any{
						"firing":       []any{},
						"resolved":     []any{alertJSON("a:9100", "1111111111111111", true), alertJSON("b:9100", "2222222222222222", true)},
						"num_firing":   float64(0),
						"num_resolved": float64(2),
					},
				},
			},
			wantUA: "alertd/",
		},
		{
			name: "every field",
			conf: pagerduty.Config{
				RoutingKey:  `{{ if eq .CommonLabels.severity "page" }}` + routingKey + `{{ end }}`,
				Client:      "alertd {{ .Receiver }}",
				ClientURL:   "{{ .ExternalURL }}/groups",
				Description: "{{ .CommonLabels.alertname }} on {{ len .Alerts }} hosts",
				Severity:    `{{ if eq .CommonLabels.severity "page" }}critical{{ else }}warning{{ end }}`,
				Source:      "{{ .CommonLabels.job }}",
				Class:       "{{ .CommonLabels.alertname }}",
				Component:   "db",
				Group:       "{{ .GroupLabels.alertname }}-group",
				Details: map[string]any{
					"firing":     `{{ range $i, $a := .Alerts.Firing }}{{ if $i }},{{ end }}{{ $a.Labels.instance }}{{ end }}`,
					"num_firing": "overridden",
					"resolved":   "{{ len .Alerts.Resolved }} resolved",
					"runbook":    "https://wiki.example/{{ .CommonLabels.alertname }}",
					"nested": map[string]any{
						"{{ .CommonLabels.job }}_hosts": []any{"{{ (index .Alerts 0).Labels.instance }}", 3, true},
					},
					"structured": "{{ `{a: [1, 2], b: {c: d}}` }}",
					"number":     "{{ len .Alerts }}",
				},
				Links: []pagerduty.Link{
					{Href: "{{ .ExternalURL }}/#/alerts", Text: "Alerts of {{ .GroupLabels.alertname }}"},
					{Href: "{{ .CommonLabels.nope }}", Text: "dropped"},
				},
				Images: []pagerduty.Image{
					{Src: "https://grafana.example/render/{{ .GroupLabels.alertname }}.png", Alt: "graph", Href: "https://grafana.example/d/1"},
					{Src: "", Alt: "dropped", Href: "https://grafana.example/d/2"},
				},
			},
			ua: "alertd-test/1.0",
			want: pagerdutytest.Event{
				RoutingKey:  routingKey,
				EventAction: "trigger",
				DedupKey:    dedupKey(groupKey),
				Client:      "alertd team-x",
				ClientURL:   "http://alertd.example.org:9093/groups",
				Payload: pagerdutytest.Payload{
					Summary:   "Down on 2 hosts",
					Source:    "node",
					Severity:  "critical",
					Class:     "Down",
					Component: "db",
					Group:     "Down-group",
					CustomDetails: map[string]any{
						"firing":       "a:9100,b:9100",
						"num_firing":   "overridden",
						"resolved":     "0 resolved",
						"num_resolved": float64(0),
						"runbook":      "https://wiki.example/Down",
						"nested":       map[string]any{"node_hosts": []any{"a:9100", float64(3), true}},
						"structured":   map[string]any{"a": []any{float64(1), float64(2)}, "b": map[string]any{"c": "d"}},
						"number":       float64(2),
					},
				},
				Links:  []map[string]any{{"href": "http://alertd.example.org:9093/#/alerts", "text": "Alerts of Down"}},
				Images: []map[string]any{{"src": "https://grafana.example/render/Down.png", "alt": "graph", "href": "https://grafana.example/d/1"}},
			},
			wantUA: "alertd-test/1.0",
		},
		{
			name: "long description",
			conf: pagerduty.Config{RoutingKey: routingKey, Description: strings.Repeat("é", 1100)},
			want: pagerdutytest.Event{
				RoutingKey:  routingKey,
				EventAction: "trigger",
				DedupKey:    dedupKey(groupKey),
				Client:      "Alertmanager",
				ClientURL:   "http://alertd.example.org:9093/#/alerts?receiver=team-x",
				Payload: pagerdutytest.Payload{
					Summary:       strings.Repeat("é", 1023) + "…",
					Source:        "Alertmanager",
					Severity:      "error",
					CustomDetails: defaultFiring,
				},
			},
			wantUA:  "alertd/",
			wantLog: "truncated summary",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := pagerdutytest.Start(t)
			tc.conf.URL = api.URL()
			logger, logs := logBuffer()
			n := mustNew(t, tc.conf, pagerduty.Options{UserAgent: tc.ua, Logger: logger})
			if retry, err := n.Notify(t.Context(), groupData(tc.resolved, nil)); err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			got := api.Events()
			if len(got) != 1 {
				t.Fatalf("%d events, want 1", len(got))
			}
			if diff := cmp.Diff(tc.want, got[0], ignoreReceipt); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if ua := got[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, tc.wantUA) {
				t.Errorf("User-Agent %q, want %q…", ua, tc.wantUA)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log does not say %q:\n%s", tc.wantLog, logs)
			}
			if strings.Contains(logs.String(), routingKey) {
				t.Errorf("log shows the routing key:\n%s", logs)
			}
		})
	}
}

// TestEventActions drives flushes of one group through a pipeline: the
// dedup_key is the same in every event, "trigger" is sent while any alert
// fires and "resolve" once all are resolved, and with send_resolved false
// no resolution is sent.
func TestEventActions(t *testing.T) {
	const key = `{}/{team="db"}:{alertname="DiskFull"}`
	a := labels.FromStrings("alertname", "DiskFull", "instance", "a:9100", "team", "db")
	b := labels.FromStrings("alertname", "DiskFull", "instance", "b:9100", "team", "db")
	firing := func(ls labels.Labels, start time.Duration) *alert.Alert {
		return &alert.Alert{Labels: ls, StartsAt: t0.Add(start)}
	}
	resolved := func(ls labels.Labels, end time.Duration) *alert.Alert {
		return &alert.Alert{Labels: ls, StartsAt: t0, EndsAt: t0.Add(end)}
	}
	flushes := []struct {
		at     time.Duration
		alerts []*alert.Alert
	}{
		{1 * time.Minute, []*alert.Alert{firing(a, 0), firing(b, 0)}},
		{6 * time.Minute, []*alert.Alert{resolved(a, 5*time.Minute), firing(b, 0)}},
		{11 * time.Minute, []*alert.Alert{resolved(a, 5*time.Minute), resolved(b, 10*time.Minute)}},
		// The dispatcher has deleted the resolved alerts; b fires again.
		{16 * time.Minute, []*alert.Alert{firing(b, 15*time.Minute)}},
	}

	type sent struct {
		Action                 string
		DedupKey               string
		NumFiring, NumResolved any
	}
	want := dedupKey(key)
	for _, tc := range []struct {
		name         string
		sendResolved bool
		want         []sent
	}{
		{
			name:         "send_resolved true",
			sendResolved: true,
			want: []sent{
				{"trigger", want, float64(2), float64(0)},
				{"trigger", want, float64(1), float64(1)},
				{"resolve", want, float64(0), float64(2)},
				{"trigger", want, float64(1), float64(0)},
			},
		},
		{
			name:         "send_resolved false",
			sendResolved: false,
			want: []sent{
				{"trigger", want, float64(2), float64(0)},
				{"trigger", want, float64(1), float64(0)},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := pagerdutytest.Start(t)
			n := mustNew(t, pagerduty.Config{RoutingKey: routingKey, URL: api.URL(), SendResolved: tc.sendResolved}, pagerduty.Options{})
			if n.SendResolved() != tc.sendResolved {
				t.Fatalf("SendResolved %v, want %v", n.SendResolved(), tc.sendResolved)
			}
			p, err := notify.New(notify.Options{Receivers: map[string][]notify.Integration{"team-db": {n}}})
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range flushes {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				err := p.Notify(ctx, &alert.Notification{
					GroupKey:       key,
					GroupLabels:    labels.FromStrings("alertname", "DiskFull"),
					Receiver:       "team-db",
					RepeatInterval: 4 * time.Hour,
					Now:            t0.Add(f.at),
					Alerts:         f.alerts,
				})
				cancel()
				if err != nil {
					t.Fatalf("flush %d: %v", i, err)
				}
			}
			var got []sent
			for _, r := range api.Events() {
				d := r.Payload.CustomDetails
				got = append(got, sent{r.EventAction, r.DedupKey, d["num_firing"], d["num_resolved"]})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEventSize: an event over 512000 bytes has its custom details
// replaced by Alertmanager's text, with a warning, and is accepted; a
// smaller one keeps them.
func TestEventSize(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotation  int // bytes of a large annotation
		wantRemoved bool
	}{
		{"small", 10, false},
		{"under the limit", 400_000, false},
		{"over the limit", 600_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := pagerdutytest.Start(t)
			logger, logs := logBuffer()
			n := mustNew(t, pagerduty.Config{RoutingKey: routingKey, URL: api.URL()}, pagerduty.Options{Logger: logger})
			big := strings.Repeat("x", tc.annotation)
			if retry, err := n.Notify(t.Context(), groupData(false, notify.KV{"big": big})); err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			got := api.Events()
			if len(got) != 1 {
				t.Fatalf("%d events, want 1", len(got))
			}
			details := got[0].Payload.CustomDetails
			removed := map[string]any{"error": "Custom details have been removed because the original event exceeds the maximum size of 512KB"}
			warned := strings.Contains(logs.String(), "removed custom details")
			if tc.wantRemoved {
				if diff := cmp.Diff(removed, details); diff != "" {
					t.Errorf("custom details (-want +got):\n%s", diff)
				}
				if !warned {
					t.Errorf("no warning logged:\n%s", logs)
				}
				if strings.Contains(logs.String(), routingKey) {
					t.Errorf("log shows the routing key:\n%s", logs)
				}
				return
			}
			firing, _ := details["firing"].([]any)
			if len(firing) != 2 {
				t.Fatalf("custom details %.200v, want the two firing alerts", details)
			}
			ann, _ := firing[0].(map[string]any)["annotations"].(map[string]any)
			if ann["big"] != big {
				t.Errorf("the large annotation was not kept")
			}
			if warned {
				t.Errorf("warning logged for an event under the limit:\n%s", logs)
			}
		})
	}
}

// TestAnswers checks how PagerDuty's answers are classified, and that the
// routing key never shows in an error even when the answer echoes it.
func TestAnswers(t *testing.T) {
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return "http://" + addr + "/v2/enqueue"
	}
	reply := func(code int, header, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if k, v, ok := strings.Cut(header, ": "); ok {
				w.Header().Set(k, v)
			}
			if strings.HasPrefix(body, "{") {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}
	}
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc // nil: nothing listens
		timeout    time.Duration
		wantRetry  bool
		wantErr    string // "" means success; else a substring of the error
		wantReason notify.Reason
		wantAfter  time.Duration
	}{
		{name: "202", handler: reply(202, "", `{"status":"success","message":"Event processed","dedup_key":"x"}`)},
		{name: "200 without a body", handler: reply(200, "", "")},
		{
			name:       "400 with PagerDuty's error object",
			handler:    reply(400, "", `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing or blank","'routing_key' is invalid"]}`),
			wantErr:    "unexpected status code 400: Event object is invalid: 'payload.summary' is missing or blank,'routing_key' is invalid",
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "400 echoing the routing key",
			handler:    reply(400, "", `{"status":"invalid event","message":"Event object is invalid","errors":["unknown routing key `+routingKey+`"]}`),
			wantErr:    "unexpected status code 400: Event object is invalid: unknown routing key <redacted>",
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "400 from a proxy",
			handler:    reply(400, "", "bad request from the proxy\n"),
			wantErr:    "unexpected status code 400: bad request from the proxy",
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "403",
			handler:    reply(403, "", "forbidden"),
			wantErr:    "unexpected status code 403: forbidden",
			wantReason: notify.ReasonAuthError,
		},
		{
			name:       "429 with Retry-After",
			handler:    reply(429, "Retry-After: 30", `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`),
			wantRetry:  true,
			wantErr:    "unexpected status code 429: Requests for this service are arriving too quickly.  Please retry later.",
			wantReason: notify.ReasonRateLimited,
			wantAfter:  30 * time.Second,
		},
		{
			name:       "500",
			handler:    reply(500, "", "internal error"),
			wantRetry:  true,
			wantErr:    "unexpected status code 500: internal error",
			wantReason: notify.ReasonServerError,
		},
		{
			name:      "connection refused",
			wantRetry: true,
			wantErr:   "post event to PagerDuty: Post ",
		},
		{
			name: "timeout",
			handler: func(_ http.ResponseWriter, r *http.Request) {
				// Reading the body lets the server see the client go.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			},
			timeout:   100 * time.Millisecond,
			wantRetry: true,
			wantErr:   "configured pagerduty timeout reached (100ms)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u string
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				u = srv.URL + "/v2/enqueue"
			} else {
				u = closedPort(t)
			}
			n := mustNew(t, pagerduty.Config{RoutingKey: routingKey, URL: u, Timeout: tc.timeout}, pagerduty.Options{})
			retry, err := n.Notify(t.Context(), groupData(false, nil))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: retry %v, %v", retry, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if retry != tc.wantRetry {
				t.Errorf("retry %v, want %v", retry, tc.wantRetry)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("error shows the routing key: %v", err)
			}
			if tc.wantReason == "" {
				return
			}
			e, ok := errors.AsType[*notify.Error](err)
			if !ok {
				t.Fatalf("error %v is no *notify.Error", err)
			}
			if e.Reason != tc.wantReason || e.RetryAfter != tc.wantAfter {
				t.Errorf("reason %s, Retry-After %s; want %s, %s", e.Reason, e.RetryAfter, tc.wantReason, tc.wantAfter)
			}
		})
	}
}

// TestNotSent: what is wrong before the event is sent fails the
// notification for good, and sends nothing.
func TestNotSent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    pagerduty.Config
		wantErr string
	}{
		{
			name:    "routing key empty after templating",
			conf:    pagerduty.Config{RoutingKey: `{{ if eq .CommonLabels.severity "ticket" }}` + routingKey + `{{ end }}`},
			wantErr: "routing key cannot be empty",
		},
		{
			name:    "template error in the routing key",
			conf:    pagerduty.Config{RoutingKey: routingKey + "{{ .Nope }}"},
			wantErr: "template of routing_key:",
		},
		{
			name:    "template error in a link",
			conf:    pagerduty.Config{RoutingKey: routingKey, Links: []pagerduty.Link{{Href: "{{ .Nope }}"}}},
			wantErr: "template of links[0].href:",
		},
		{
			name:    "template error in the details",
			conf:    pagerduty.Config{RoutingKey: routingKey, Details: map[string]any{"deep": []any{map[string]any{"k": "{{ .Nope }}"}}}},
			wantErr: "template of details.deep:",
		},
		{
			name:    "details that are no JSON",
			conf:    pagerduty.Config{RoutingKey: routingKey, Details: map[string]any{"nan": "{{ `.nan` }}"}},
			wantErr: "encode PagerDuty event: json: unsupported value: NaN",
		},
		{
			name:    "missing routing_key_file",
			conf:    pagerduty.Config{RoutingKeyFile: "/nonexistent/routing-key"},
			wantErr: "read routing_key_file: open /nonexistent/routing-key:",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := pagerdutytest.Start(t)
			tc.conf.URL = api.URL()
			n := mustNew(t, tc.conf, pagerduty.Options{})
			retry, err := n.Notify(t.Context(), groupData(false, nil))
			if err == nil || retry || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Notify: retry %v, error %v; want a permanent error with %q", retry, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("error shows the routing key: %v", err)
			}
			if got := api.Events(); len(got) != 0 {
				t.Errorf("%d events sent, want none", len(got))
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    pagerduty.Config
		wantErr string
	}{
		{"no key", pagerduty.Config{}, "missing routing_key or routing_key_file"},
		{"key and file", pagerduty.Config{RoutingKey: routingKey, RoutingKeyFile: "/run/key"}, "at most one of routing_key & routing_key_file"},
		{"negative timeout", pagerduty.Config{RoutingKey: routingKey, Timeout: -time.Second}, "negative timeout -1s"},
		{"bad scheme", pagerduty.Config{RoutingKey: routingKey, URL: "ftp://events.example/v2/enqueue"}, "url: scheme must be http or https"},
		{"no host", pagerduty.Config{RoutingKey: routingKey, URL: "https:///v2/enqueue"}, "url: no host"},
		{"unparsable url", pagerduty.Config{RoutingKey: routingKey, URL: "http://[::1"}, "url: invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pagerduty.New(0, tc.conf, pagerduty.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("error shows the routing key: %v", err)
			}
		})
	}
}

// TestBuilder builds integrations from an Alertmanager configuration whose
// global pagerduty_url is the fake Events API, and sends through them.
func TestBuilder(t *testing.T) {
	api := pagerdutytest.Start(t)
	keyFile := filepath.Join(t.TempDir(), "routing-key")
	const fileKey1, fileKey2 = "F1LEKEYa1b2c3d4e5f6a7b8c9d0e1f2a", "F1LEKEYb2c3d4e5f6a7b8c9d0e1f2a3b"
	if err := os.WriteFile(keyFile, []byte("  "+fileKey1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := amconfig.Load(fmt.Sprintf(`
global:
  pagerduty_url: %s
route: {receiver: team-x}
receivers:
  - name: team-x
    pagerduty_configs:
      - routing_key: %s
        severity: critical
        class: disk
        details:
          firing: '{{ .Alerts.Firing | len }} firing'
          team: db
        links:
          - href: 'https://runbooks.example/{{ .GroupLabels.alertname }}'
            text: runbook
      - routing_key_file: %s
        send_resolved: false
        timeout: 10s
  - name: v1
    pagerduty_configs:
      - service_key: 0123456789abcdef0123456789abcdef
`, api.URL(), routingKey, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	build := notify.BuildOptions{PagerDuty: pagerduty.Builder(pagerduty.Options{})}
	_, err = notify.BuildReceivers(cfg, build)
	if want := `receiver "v1": pagerduty_configs[0]: service_key`; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "use routing_key") {
		t.Fatalf("error %v, want %q… use routing_key", err, want)
	}
	cfg.Receivers = cfg.Receivers[:1]
	rcvs, err := notify.BuildReceivers(cfg, build)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ig := range rcvs["team-x"] {
		names = append(names, fmt.Sprintf("%s[%d] send_resolved=%v", ig.Name(), ig.Index(), ig.SendResolved()))
	}
	if got, want := strings.Join(names, " "), "pagerduty[0] send_resolved=true pagerduty[1] send_resolved=false"; got != want {
		t.Fatalf("integrations %s, want %s", got, want)
	}

	notifyAll := func() {
		t.Helper()
		for _, ig := range rcvs["team-x"] {
			if retry, err := ig.Notify(t.Context(), groupData(false, nil)); err != nil {
				t.Fatalf("%s[%d]: retry %v, %v", ig.Name(), ig.Index(), retry, err)
			}
		}
	}
	notifyAll()
	// The key file is read at every notification.
	if err := os.WriteFile(keyFile, []byte(fileKey2), 0o600); err != nil {
		t.Fatal(err)
	}
	notifyAll()

	events := api.Events()
	if len(events) != 4 {
		t.Fatalf("%d events, want 4", len(events))
	}
	var keys []string
	for _, r := range events {
		keys = append(keys, r.RoutingKey)
	}
	if diff := cmp.Diff([]string{routingKey, fileKey1, routingKey, fileKey2}, keys); diff != "" {
		t.Errorf("routing keys (-want +got):\n%s", diff)
	}
	first := events[0]
	want := pagerdutytest.Event{
		RoutingKey:  routingKey,
		EventAction: "trigger",
		DedupKey:    dedupKey(groupKey),
		Client:      "Alertmanager",
		ClientURL:   "http://alertd.example.org:9093/#/alerts?receiver=team-x",
		Payload: pagerdutytest.Payload{
			Summary:  "[FIRING:2] Down (node page)",
			Source:   "Alertmanager",
			Severity: "critical",
			Class:    "disk",
			CustomDetails: map[string]any{
				"firing":       "2 firing",
				"team":         "db",
				"resolved":     []any{},
				"num_firing":   float64(2),
				"num_resolved": float64(0),
			},
		},
		Links: []map[string]any{{"href": "https://runbooks.example/Down", "text": "runbook"}},
	}
	if diff := cmp.Diff(want, first, ignoreReceipt); diff != "" {
		t.Errorf("event of pagerduty[0] (-want +got):\n%s", diff)
	}
	if got := events[1].Payload.Severity; got != "error" {
		t.Errorf("severity of pagerduty[1] %q, want the default error", got)
	}
}
