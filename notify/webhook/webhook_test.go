package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

// clients are the two ways a webhook posts: net/http's client (any
// http_config but the default one, here the zero value) and its own
// connections (the default http_config, the one Alertmanager's
// configuration gives a webhook without http_config).
var clients = []struct {
	name   string
	config commoncfg.HTTPClientConfig
}{
	{"net/http", commoncfg.HTTPClientConfig{}},
	{"direct", commoncfg.DefaultHTTPClientConfig},
}

// received is one request a receiver got.
type received struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that records requests and
// answers with respond (nil: 200).
type receiver struct {
	srv     *httptest.Server
	respond func(w http.ResponseWriter, r *http.Request)
	got     chan received
}

func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, got: make(chan received, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.got <- received{method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
		if rc.respond != nil {
			rc.respond(w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next returns the next request, failing the test after timeout.
func (rc *receiver) next(t *testing.T, timeout time.Duration) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(timeout):
		t.Fatalf("no request within %s", timeout)
		return received{}
	}
}

// the alerts of the golden message.
var (
	t0           = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	generatorURL = "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
)

func goldenAlerts() []*alert.Alert {
	return []*alert.Alert{
		{
			Labels:      labels.FromStrings("alertname", "Down", "instance", "a:9100", "job", "node", "severity", "page"),
			Annotations: labels.FromStrings("summary", "a:9100 is down", "runbook", "https://wiki.example.org/Down?a=1&b=<2>"),
			StartsAt:    t0.Add(-2 * time.Minute).In(time.FixedZone("CET", 3600)),
			// Not zeroed, as the dispatcher should have: still shown as
			// zero, since the alert fires at t0.
			EndsAt:       t0.Add(time.Hour),
			GeneratorURL: generatorURL,
		},
		{
			Labels:       labels.FromStrings("alertname", "Down", "instance", "b:9100", "job", "node", "severity", "page"),
			Annotations:  labels.FromStrings("summary", "b:9100 is down"),
			StartsAt:     t0.Add(-10*time.Minute + 500*time.Millisecond),
			EndsAt:       t0.Add(-30 * time.Second),
			GeneratorURL: generatorURL,
		},
	}
}

// send runs one flush with the given deadline through a pipeline with the
// webhook c and returns Notify's error.
func send(t *testing.T, c webhook.Config, logger *slog.Logger, deadline time.Duration, n *alert.Notification) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	w, err := webhook.New(0, c, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPipeline(t, notify.Options{
		Receivers:   map[string][]notify.Integration{n.Receiver: {w}},
		ExternalURL: "http://alertd.example.org:9095",
		Logger:      logger,
	})
	return p.Notify(ctx, n)
}

func mustPipeline(t *testing.T, o notify.Options) *notify.Pipeline {
	t.Helper()
	p, err := notify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func goldenNotification() *alert.Notification {
	return &alert.Notification{
		GroupKey:       `{}/{severity="page"}:{alertname="Down"}`,
		GroupLabels:    labels.FromStrings("alertname", "Down"),
		Receiver:       "team.x",
		RepeatInterval: 4 * time.Hour,
		Now:            t0,
		Alerts:         goldenAlerts(),
	}
}

// TestMessageGolden checks the message against testdata/message.json,
// written by hand from Alertmanager's webhook.Message and template.Data:
// the same keys, in the same order, with the same values.
func TestMessageGolden(t *testing.T) {
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) { testMessageGolden(t, c.config) })
	}
}

func testMessageGolden(t *testing.T, hc commoncfg.HTTPClientConfig) {
	rc := newReceiver(t, nil)
	if err := send(t, webhook.Config{URL: rc.srv.URL + "/hook", SendResolved: true, HTTPConfig: hc}, nil, 10*time.Second, goldenNotification()); err != nil {
		t.Fatal(err)
	}
	req := rc.next(t, 5*time.Second)
	if req.method != http.MethodPost || req.path != "/hook" {
		t.Errorf("%s %s, want POST /hook", req.method, req.path)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if ua := req.header.Get("User-Agent"); !strings.HasPrefix(ua, "alertd/") {
		t.Errorf("User-Agent %q, want alertd/<version>", ua)
	}

	golden := filepath.Join("testdata", "message.json")
	if os.Getenv("ALERTD_UPDATE_GOLDEN") == "1" {
		var out bytes.Buffer
		if err := json.Indent(&out, req.body, "", "  "); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(decode(t, want), decode(t, req.body)); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
	if d := cmp.Diff(keyOrder(t, want), keyOrder(t, req.body)); d != "" {
		t.Errorf("key order (-want +got):\n%s", d)
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return m
}

// keyOrder lists the object keys of a JSON document, with their paths,
// in document order.
func keyOrder(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	token := func() json.Token {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var walk func(path string)
	walk = func(path string) {
		switch token() {
		case json.Delim('{'):
			for dec.More() {
				k := path + "." + token().(string)
				keys = append(keys, k)
				walk(k)
			}
			token() // }
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(fmt.Sprintf("%s[%d]", path, i))
			}
			token() // ]
		}
	}
	walk("")
	return keys
}

func TestMaxAlerts(t *testing.T) {
	mk := func(instance, severity string, resolvedAt time.Time) *alert.Alert {
		return &alert.Alert{
			Labels:   labels.FromStrings("alertname", "Down", "instance", instance, "severity", severity),
			StartsAt: t0.Add(-time.Hour),
			EndsAt:   resolvedAt,
		}
	}
	n := goldenNotification()
	n.Alerts = []*alert.Alert{mk("a", "page", time.Time{}), mk("b", "page", t0), mk("c", "ticket", time.Time{})}
	for _, tc := range []struct {
		name               string
		maxAlerts          uint64
		wantInstances      []string
		wantTruncated      float64
		wantStatus         string
		wantCommonSeverity any
	}{
		{"no limit", 0, []string{"a", "b", "c"}, 0, "firing", nil},
		{"over the limit", 2, []string{"a", "b"}, 1, "firing", "page"},
		{"common labels of the sent alerts", 1, []string{"a"}, 2, "firing", "page"},
		{"at the limit", 3, []string{"a", "b", "c"}, 0, "firing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			if err := send(t, webhook.Config{URL: rc.srv.URL, SendResolved: true, MaxAlerts: tc.maxAlerts}, nil, 10*time.Second, n); err != nil {
				t.Fatal(err)
			}
			m := decode(t, rc.next(t, 5*time.Second).body)
			var instances []string
			for _, a := range m["alerts"].([]any) {
				instances = append(instances, a.(map[string]any)["labels"].(map[string]any)["instance"].(string))
			}
			if d := cmp.Diff(tc.wantInstances, instances); d != "" {
				t.Errorf("alerts (-want +got):\n%s", d)
			}
			if m["truncatedAlerts"] != tc.wantTruncated || m["status"] != tc.wantStatus {
				t.Errorf("truncatedAlerts %v status %v, want %v %v", m["truncatedAlerts"], m["status"], tc.wantTruncated, tc.wantStatus)
			}
			if got := m["commonLabels"].(map[string]any)["severity"]; got != tc.wantCommonSeverity {
				t.Errorf("common severity %v, want %v", got, tc.wantCommonSeverity)
			}
		})
	}
}

// lockedBuffer is a log sink safe for the pipeline's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
