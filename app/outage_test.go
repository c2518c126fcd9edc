package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// switchProxy stands in front of a server on a fixed 127.0.0.1 port and
// can be stopped (its port refuses connections, as a stopped Prometheus)
// and started again on the same port.
type switchProxy struct {
	t       *testing.T
	addr    string
	h       http.Handler
	mu      sync.Mutex
	srv     *http.Server
	done    chan struct{}
	backend atomic.Pointer[url.URL]
}

func newSwitchProxy(t *testing.T, backend string) *switchProxy {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{t: t, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	p.backend.Store(u)
	p.h = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(p.backend.Load()) },
		// A backend that is down answers 502, which is what the test wants.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *switchProxy) URL() string { return "http://" + p.addr }

// setBackend sends the next requests to backend.
func (p *switchProxy) setBackend(backend string) {
	u, err := url.Parse(backend)
	if err != nil {
		p.t.Fatal(err)
	}
	p.backend.Store(u)
}

func (p *switchProxy) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.srv = &http.Server{Handler: p.h, ReadHeaderTimeout: 5 * time.Second}
	p.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(p.srv, p.done)
}

func (p *switchProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	_ = p.srv.Close()
	<-p.done
	p.srv = nil
}

// TestDatasourceOutage stops Prometheus for several evaluation intervals
// while a rule's alert fires, then starts it again on the same data (behind
// a proxy, so that its address stays the one alertd queries): the alert is
// not resolved (no resolve storm), AlertdDatasourceDown is raised through
// the route after datasource.down_alert_after, and resolved when queries
// succeed again.
func TestDatasourceOutage(t *testing.T) {
	target := testenv.NewTarget(t)
	target.Set(`out_up{job="out",instance="h1"}`, 0)
	promOpts := testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}, Dir: t.TempDir()}
	prom := testenv.StartPrometheus(t, promOpts)
	if err := prom.WaitForScrape(t.Context(), "out_up"); err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, prom.URL)
	sink := &webhookSink{start: time.Now(), got: map[string][]notification{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	dir := t.TempDir()
	write(t, dir+"/rules.yml", `groups:
- name: out
  rules:
  - alert: OutDown
    expr: out_up == 0
`)
	startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: 1s
datasource: {url: %s, timeout: 1s, down_alert_after: 3s}
rule_files: [rules.yml]
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: ops
  webhook_configs: [{url: %q, send_resolved: true}]
`, proxy.URL(), sinkSrv.URL+"/alertd"))

	waitFor := func(what string, within time.Duration, ok func([]notification) bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !ok(sink.notifications("alertd")) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s; notifications: %+v", what, within, sink.notifications("alertd"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	has := func(alertname, status string) func([]notification) bool {
		return func(ns []notification) bool {
			for _, n := range ns {
				if n.Group["alertname"] == alertname && n.Status == status {
					return true
				}
			}
			return false
		}
	}
	waitFor("OutDown firing", 20*time.Second, has("OutDown", "firing"))

	if err := prom.Stop(); err != nil {
		t.Fatalf("stop prometheus: %v", err)
	}
	// down_alert_after (3s) + a check (1s) + group_wait (1s) + slack.
	waitFor(DatasourceDown+" firing", 8*time.Second, has(DatasourceDown, "firing"))
	time.Sleep(4 * time.Second) // several more intervals down
	prom = testenv.StartPrometheus(t, promOpts)
	proxy.setBackend(prom.URL)
	waitFor(DatasourceDown+" resolved", 10*time.Second, has(DatasourceDown, "resolved"))
	time.Sleep(3 * time.Second) // anything late shows up by now

	var out []notification
	for _, n := range sink.notifications("alertd") {
		if n.Group["alertname"] == "OutDown" {
			out = append(out, n)
		}
	}
	if len(out) != 1 || out[0].Status != "firing" {
		t.Errorf("OutDown notifications across the outage: %+v, want the one firing notification (no resolve)", out)
	}
	for _, n := range sink.notifications("alertd") {
		if n.Group["alertname"] == DatasourceDown && !strings.Contains(strings.Join(n.Alerts, " "), "datasource:http://127.0.0.1:") {
			t.Errorf("%s without the datasource label: %+v", DatasourceDown, n)
		}
	}
}

// DatasourceDown is app.DatasourceDownAlert, spelt out as users see it.
const DatasourceDown = "AlertdDatasourceDown"

// phasedSink is a webhook receiver whose answer the test changes: 200
// (the notification is accepted and recorded), 429 with Retry-After: 1,
// or 500.
type phasedSink struct {
	mu                     sync.Mutex
	answer                 int
	accepted               map[string][]string // instance → statuses accepted, in order
	refused                int
	refused429, refused500 int
}

func (s *phasedSink) refusedBy() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused429, s.refused500
}

func (s *phasedSink) set(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = code
}

func (s *phasedSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.answer {
	case http.StatusTooManyRequests:
		s.refused++
		s.refused429++
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case http.StatusInternalServerError:
		s.refused++
		s.refused500++
		http.Error(w, "broken", http.StatusInternalServerError)
	default:
		for _, a := range m.Alerts {
			s.accepted[a.Labels["instance"]] = append(s.accepted[a.Labels["instance"]], a.Status)
		}
	}
}

func (s *phasedSink) snapshot() (map[string][]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.accepted), s.refused
}

// TestReceiverOutage takes the webhook receiver through being down
// (connection refused), answering 429 with Retry-After, then 500, then
// healthy: every firing notification arrives once, then every resolution
// once; the failures and the backlog show in /metrics.
func TestReceiverOutage(t *testing.T) {
	sink := &phasedSink{answer: http.StatusOK, accepted: map[string][]string{}}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	proxy := newSwitchProxy(t, sinkSrv.URL)
	proxy.stop()
	dir := t.TempDir()
	_, base := startAlertd(t, dir, fmt.Sprintf(`route:
  receiver: ops
  group_by: [alertname, instance]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: ops
  webhook_configs: [{url: %q, send_resolved: true}]
`, proxy.URL()+"/hook"))
	instances := []string{"a", "b", "c", "d", "e"}
	post := func(endsAt time.Time) {
		var items []string
		for _, i := range instances {
			items = append(items, fmt.Sprintf(`{"labels":{"alertname":"Outage","instance":%q},"endsAt":%q}`, i, endsAt.UTC().Format(time.RFC3339Nano)))
		}
		postAlerts(t, base, []byte("["+strings.Join(items, ",")+"]"))
	}
	post(time.Now().Add(time.Hour))

	time.Sleep(3 * time.Second) // down: connection refused
	sink.set(http.StatusTooManyRequests)
	proxy.start()
	time.Sleep(3 * time.Second)
	sink.set(http.StatusInternalServerError)
	time.Sleep(3 * time.Second)
	sink.set(http.StatusOK)
	waitAccepted := func(status string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, _ := sink.snapshot()
			done := true
			for _, i := range instances {
				if !slices.Contains(got[i], status) {
					done = false
				}
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not every %s notification arrived within 30s: %v", status, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitAccepted("firing")

	// Every refused attempt (connection refused, 429, 500) is counted, and
	// the backlog is visible.
	metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{"alertd_dispatcher_flushes_running", "alertd_dispatcher_flushes_waiting", "alertd_dispatcher_aggregation_groups 5"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_, refused := sink.snapshot()
	failedAttempts := -1.0
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, `alertd_notification_requests_failed_total{integration="webhook"} `); ok {
			failedAttempts, _ = strconv.ParseFloat(v, 64)
		}
	}
	if failedAttempts < float64(refused) {
		t.Errorf("alertd_notification_requests_failed_total %v, want at least the %d attempts the receiver refused", failedAttempts, refused)
	}

	// Resolve everything while the receiver answers 500 for a while.
	sink.set(http.StatusInternalServerError)
	post(time.Now())
	time.Sleep(2 * time.Second)
	sink.set(http.StatusOK)
	waitAccepted("resolved")
	time.Sleep(2 * time.Second) // anything doubled shows by now

	got, refused := sink.snapshot()
	if refused429, refused500 := sink.refusedBy(); refused429 == 0 || refused500 == 0 {
		t.Errorf("the receiver refused %d requests with 429 and %d with 500: the outage was not exercised", refused429, refused500)
	}
	for _, i := range instances {
		if !slices.Equal(got[i], []string{"firing", "resolved"}) {
			t.Errorf("instance %s: accepted %v, want firing then resolved, once each", i, got[i])
		}
	}
	if refused == 0 {
		t.Error("the receiver refused nothing: the outage was not exercised")
	}
}
