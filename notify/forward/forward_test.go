package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/testenv"
)

// waitTimeout bounds every wait for something the forwarder does.
const waitTimeout = 10 * time.Second

// post is one request a fakeAM received.
type post struct {
	Path   string
	Auth   string
	Agent  string
	Alerts models.PostableAlerts
	Raw    []rawAlert
	Err    string // decoding or validation problem, checked by the test
}

// rawAlert keeps the wire form of the times.
type rawAlert struct {
	StartsAt string `json:"startsAt"`
	EndsAt   string `json:"endsAt"`
}

// fakeAM records posts and answers with respond (200 if nil). It never
// fails the test from its handler goroutine; problems go into post.Err.
type fakeAM struct {
	*httptest.Server
	posts   chan post
	respond func(w http.ResponseWriter, r *http.Request)
}

func newFakeAM(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *fakeAM {
	t.Helper()
	am := &fakeAM{posts: make(chan post, 1000), respond: respond}
	am.Server = httptest.NewServer(http.HandlerFunc(am.serve))
	t.Cleanup(am.Close)
	return am
}

func (am *fakeAM) serve(w http.ResponseWriter, r *http.Request) {
	p := post{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Agent: r.Header.Get("User-Agent")}
	body, err := io.ReadAll(r.Body)
	switch {
	case err != nil:
		p.Err = err.Error()
	case r.Method != http.MethodPost:
		p.Err = "method " + r.Method
	case r.Header.Get("Content-Type") != "application/json":
		p.Err = "content type " + r.Header.Get("Content-Type")
	default:
		if err := json.Unmarshal(body, &p.Alerts); err != nil {
			p.Err = err.Error()
		} else if err := p.Alerts.Validate(strfmt.Default); err != nil {
			p.Err = "validate: " + err.Error()
		} else if err := json.Unmarshal(body, &p.Raw); err != nil {
			p.Err = err.Error()
		}
	}
	select {
	case am.posts <- p:
	default:
		p.Err = "too many posts"
	}
	if am.respond != nil {
		am.respond(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// next returns the next post, failing the test if none arrives in time.
func (am *fakeAM) next(t *testing.T) post {
	t.Helper()
	select {
	case p := <-am.posts:
		if p.Err != "" {
			t.Errorf("bad post: %s", p.Err)
		}
		return p
	case <-time.After(waitTimeout):
		t.Fatalf("no post to %s within %v", am.URL, waitTimeout)
		return post{}
	}
}

// none checks that nothing more was posted; call it after Run returned.
func (am *fakeAM) none(t *testing.T) {
	t.Helper()
	select {
	case p := <-am.posts:
		t.Errorf("unexpected post with %d alerts", len(p.Alerts))
	default:
	}
}

// endpoint is the metric label value of a fake's URL.
func (am *fakeAM) endpoint() string { return am.URL + "/api/v2/alerts" }

// status answers every post with code.
func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, http.StatusText(code), code)
	}
}

// hang answers only when the client gives up or the test ends.
func hang(t *testing.T) func(http.ResponseWriter, *http.Request) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	return func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// run starts f.Run and returns a function that cancels it and waits for it
// to return; it is also called on cleanup.
func run(t *testing.T, f *Forwarder) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return within %v of cancel", waitTimeout)
		}
	})
	t.Cleanup(stop)
	return stop
}

// runCancelled calls Run with a done context: it drains and returns.
func runCancelled(t *testing.T, f *Forwarder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func newForwarder(t *testing.T, o Options) *Forwarder {
	t.Helper()
	f, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// gather returns every sample of the registry as "name{label=value}" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Summary != nil:
				out[key+"_count"] = float64(m.GetSummary().GetSampleCount())
			}
		}
	}
	return out
}

// subset returns the entries of got whose keys are in want, so that a
// test can compare only what it cares about.
func subset(got, want map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k := range want {
		if v, ok := got[k]; ok {
			out[k] = v
		}
	}
	return out
}

func numbered(n int) []*alert.Alert {
	out := make([]*alert.Alert, n)
	for i := range out {
		out[i] = &alert.Alert{
			Labels:   labels.FromStrings("alertname", "A", "i", strconv.Itoa(i)),
			StartsAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	return out
}

// indexes returns the "i" label of each posted alert.
func indexes(as models.PostableAlerts) []int {
	out := make([]int, 0, len(as))
	for _, a := range as {
		i, _ := strconv.Atoi(a.Labels["i"])
		out = append(out, i)
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestPayload(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	start := time.Date(2026, 3, 4, 5, 6, 7, 123456789, cet)
	cases := []struct {
		name      string
		external  labels.Labels
		in        alert.Alert
		want      models.PostableAlert
		wantTimes rawAlert
	}{
		{
			name: "all fields, times in UTC truncated to ms",
			in: alert.Alert{
				Labels:       labels.FromStrings("alertname", "HighLatency", "severity", "page"),
				Annotations:  labels.FromStrings("summary", "p99 > 1s", "runbook", "https://runbooks/x"),
				StartsAt:     start,
				EndsAt:       start.Add(4 * time.Minute),
				GeneratorURL: "http://alertd:9095/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
			},
			want: models.PostableAlert{
				Annotations: models.LabelSet{"summary": "p99 > 1s", "runbook": "https://runbooks/x"},
				Alert: models.Alert{
					Labels:       models.LabelSet{"alertname": "HighLatency", "severity": "page"},
					GeneratorURL: "http://alertd:9095/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
				},
			},
			wantTimes: rawAlert{StartsAt: "2026-03-04T04:06:07.123Z", EndsAt: "2026-03-04T04:10:07.123Z"},
		},
		{
			name: "no annotations, zero end as Prometheus sends it",
			in: alert.Alert{
				Labels:   labels.FromStrings("alertname", "A"),
				StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			},
			want: models.PostableAlert{
				Alert: models.Alert{Labels: models.LabelSet{"alertname": "A"}},
			},
			wantTimes: rawAlert{StartsAt: "2026-01-02T03:04:05.000Z", EndsAt: "0001-01-01T00:00:00.000Z"},
		},
		{
			name:     "external labels added when absent",
			external: labels.FromStrings("region", "eu-1", "replica", "a"),
			in: alert.Alert{
				Labels:   labels.FromStrings("alertname", "A"),
				StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			},
			want: models.PostableAlert{
				Alert: models.Alert{Labels: models.LabelSet{"alertname": "A", "region": "eu-1", "replica": "a"}},
			},
			wantTimes: rawAlert{StartsAt: "2026-01-02T03:04:05.000Z", EndsAt: "0001-01-01T00:00:00.000Z"},
		},
		{
			name:     "alert labels win over external labels",
			external: labels.FromStrings("region", "eu-1", "replica", "a"),
			in: alert.Alert{
				Labels:   labels.FromStrings("alertname", "A", "region", "us-2"),
				StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			},
			want: models.PostableAlert{
				Alert: models.Alert{Labels: models.LabelSet{"alertname": "A", "region": "us-2", "replica": "a"}},
			},
			wantTimes: rawAlert{StartsAt: "2026-01-02T03:04:05.000Z", EndsAt: "0001-01-01T00:00:00.000Z"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			am := newFakeAM(t, nil)
			f := newForwarder(t, Options{Targets: []Target{{URL: am.URL}}, ExternalLabels: tc.external})
			in := tc.in
			before := in.Labels.Copy()
			f.Send(&in)
			runCancelled(t, f)

			p := am.next(t)
			am.none(t)
			if p.Path != "/api/v2/alerts" {
				t.Errorf("path = %q, want /api/v2/alerts", p.Path)
			}
			if !strings.HasPrefix(p.Agent, "alertd/") {
				t.Errorf("User-Agent = %q, want alertd/<version>", p.Agent)
			}
			if len(p.Alerts) != 1 || len(p.Raw) != 1 {
				t.Fatalf("got %d alerts, want 1", len(p.Alerts))
			}
			got := *p.Alerts[0]
			got.StartsAt, got.EndsAt = strfmt.DateTime{}, strfmt.DateTime{}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("posted alert (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTimes, p.Raw[0]); diff != "" {
				t.Errorf("wire times (-want +got):\n%s", diff)
			}
			if !labels.Equal(before, in.Labels) {
				t.Errorf("Send modified the caller's labels: %s, was %s", in.Labels, before)
			}
		})
	}
}

func TestBatching(t *testing.T) {
	cases := []struct {
		name      string
		maxBatch  int
		n         int
		wantSizes []int
	}{
		{name: "600 alerts default batch", n: 600, wantSizes: []int{256, 256, 88}},
		{name: "exactly one batch", n: 256, wantSizes: []int{256}},
		{name: "batch size 10", maxBatch: 10, n: 25, wantSizes: []int{10, 10, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			am := newFakeAM(t, nil)
			reg := prometheus.NewRegistry()
			f := newForwarder(t, Options{Targets: []Target{{URL: am.URL}}, MaxBatchSize: tc.maxBatch, Registerer: reg})
			f.Send(numbered(tc.n)...)
			stop := run(t, f)

			var sizes, order []int
			for range tc.wantSizes {
				p := am.next(t)
				sizes = append(sizes, len(p.Alerts))
				order = append(order, indexes(p.Alerts)...)
			}
			stop()
			am.none(t)
			if diff := cmp.Diff(tc.wantSizes, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(seq(0, tc.n), order); diff != "" {
				t.Errorf("alert order (-want +got):\n%s", diff)
			}
			want := map[string]float64{
				"alertd_notifications_sent_total{alertmanager=" + am.endpoint() + "}": float64(tc.n),
				"alertd_notifications_dropped_total":                                  0,
				"alertd_notifications_queue_length":                                   0,
			}
			if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueueOverflow(t *testing.T) {
	cases := []struct {
		name        string
		capacity    int
		sends       []int // alerts per Send call, numbered consecutively
		wantDropped float64
		wantIdx     []int
	}{
		{name: "fits", capacity: 10, sends: []int{4, 6}, wantDropped: 0, wantIdx: seq(0, 10)},
		{name: "second send overflows", capacity: 10, sends: []int{8, 7}, wantDropped: 5, wantIdx: seq(5, 15)},
		{name: "one send larger than capacity", capacity: 10, sends: []int{15}, wantDropped: 5, wantIdx: seq(5, 15)},
		{name: "many small sends", capacity: 3, sends: []int{1, 1, 1, 1, 1, 1, 1}, wantDropped: 4, wantIdx: seq(4, 7)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			am := newFakeAM(t, nil)
			reg := prometheus.NewRegistry()
			var logs bytes.Buffer
			f := newForwarder(t, Options{
				Targets:       []Target{{URL: am.URL}},
				QueueCapacity: tc.capacity,
				Registerer:    reg,
				Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
			})
			all := numbered(15)
			next := 0
			for _, n := range tc.sends {
				f.Send(all[next : next+n]...)
				next += n
			}
			want := map[string]float64{
				"alertd_notifications_dropped_total":  tc.wantDropped,
				"alertd_notifications_queue_length":   float64(len(tc.wantIdx)),
				"alertd_notifications_queue_capacity": float64(tc.capacity),
			}
			if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
				t.Errorf("metrics after Send (-want +got):\n%s", diff)
			}
			if got := strings.Contains(logs.String(), "level=WARN"); got != (tc.wantDropped > 0) {
				t.Errorf("warn logged = %v, want %v; logs:\n%s", got, tc.wantDropped > 0, logs.String())
			}

			runCancelled(t, f)
			var got []int
			for len(got) < len(tc.wantIdx) {
				got = append(got, indexes(am.next(t).Alerts)...)
			}
			am.none(t)
			if diff := cmp.Diff(tc.wantIdx, got); diff != "" {
				t.Errorf("delivered alerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetFailures(t *testing.T) {
	type behaviour struct {
		respond func(*testing.T) func(http.ResponseWriter, *http.Request)
		ok      bool // whether this target accepts
		hangs   bool // never answers: the request may time out before it arrives
	}
	okay := behaviour{ok: true}
	code := func(c int, ok bool) behaviour {
		return behaviour{respond: func(*testing.T) func(http.ResponseWriter, *http.Request) { return status(c) }, ok: ok}
	}
	hung := behaviour{respond: hang, hangs: true}
	oddType := behaviour{ok: true, respond: func(*testing.T) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/x-unknown")
			_, _ = io.WriteString(w, "ok")
		}
	}}
	cases := []struct {
		name        string
		targets     []behaviour
		wantDropped float64
	}{
		{name: "one of two fails: still sent", targets: []behaviour{okay, code(500, false)}},
		{name: "one of two times out: still sent", targets: []behaviour{hung, okay}},
		{name: "single 500", targets: []behaviour{code(500, false)}, wantDropped: 3},
		{name: "single 400", targets: []behaviour{code(400, false)}, wantDropped: 3},
		{name: "single 404", targets: []behaviour{code(404, false)}, wantDropped: 3},
		{name: "single timeout", targets: []behaviour{hung}, wantDropped: 3},
		{name: "all fail", targets: []behaviour{code(503, false), hung}, wantDropped: 3},
		{name: "202 is success", targets: []behaviour{code(202, true)}},
		{name: "2xx with unknown content type is success", targets: []behaviour{oddType}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var targets []Target
			var ams []*fakeAM
			want := map[string]float64{"alertd_notifications_dropped_total": tc.wantDropped}
			for _, b := range tc.targets {
				var respond func(http.ResponseWriter, *http.Request)
				if b.respond != nil {
					respond = b.respond(t)
				}
				am := newFakeAM(t, respond)
				timeout := waitTimeout
				if b.hangs {
					timeout = 300 * time.Millisecond
				} else {
					ams = append(ams, am)
				}
				targets = append(targets, Target{URL: am.URL, Timeout: timeout})
				sent, errs := 0.0, 3.0
				if b.ok {
					sent, errs = 3, 0
				}
				want["alertd_notifications_sent_total{alertmanager="+am.endpoint()+"}"] = sent
				want["alertd_notifications_errors_total{alertmanager="+am.endpoint()+"}"] = errs
			}
			f := newForwarder(t, Options{Targets: targets, Registerer: reg})
			stop := run(t, f)
			f.Send(numbered(3)...)
			for _, am := range ams {
				if p := am.next(t); len(p.Alerts) != 3 {
					t.Errorf("%s got %d alerts, want 3", am.URL, len(p.Alerts))
				}
			}
			stop() // waits for the batch: every request finishes or times out
			if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDrain(t *testing.T) {
	t.Run("delivers what is queued", func(t *testing.T) {
		am := newFakeAM(t, nil)
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Targets: []Target{{URL: am.URL}}, Registerer: reg})
		f.Send(numbered(600)...)
		runCancelled(t, f)
		var got []int
		for range 3 {
			got = append(got, indexes(am.next(t).Alerts)...)
		}
		am.none(t)
		if diff := cmp.Diff(seq(0, 600), got); diff != "" {
			t.Errorf("drained alerts (-want +got):\n%s", diff)
		}
		want := map[string]float64{"alertd_notifications_dropped_total": 0, "alertd_notifications_queue_length": 0}
		if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})

	t.Run("bounded by target timeout", func(t *testing.T) {
		am := newFakeAM(t, hang(t))
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Targets: []Target{{URL: am.URL, Timeout: 300 * time.Millisecond}}, Registerer: reg})
		f.Send(numbered(600)...)
		begin := time.Now()
		runCancelled(t, f)
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("Run took %v to drain, want about the 300ms timeout", d)
		}
		got := gather(t, reg)
		want := map[string]float64{
			"alertd_notifications_dropped_total": 600,
			"alertd_notifications_queue_length":  0,
		}
		if diff := cmp.Diff(want, subset(got, want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		// The first batch times out; whether a second one starts before
		// the drain deadline depends on timing.
		if e := got["alertd_notifications_errors_total{alertmanager="+am.endpoint()+"}"]; e < 256 || e > 600 {
			t.Errorf("errors_total = %v, want between 256 and 600", e)
		}
	})

	t.Run("in-flight batch finishes after cancel", func(t *testing.T) {
		gate := make(chan struct{})
		am := newFakeAM(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-gate:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusOK)
		})
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Targets: []Target{{URL: am.URL}}, Registerer: reg})
		stop := run(t, f)
		f.Send(numbered(1)...)
		am.next(t) // the request is now blocked in the handler
		f.Send(numbered(2)...)
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		close(gate)
		<-stopped
		if p := am.next(t); len(p.Alerts) != 2 {
			t.Errorf("drain posted %d alerts, want 2", len(p.Alerts))
		}
		want := map[string]float64{
			"alertd_notifications_sent_total{alertmanager=" + am.endpoint() + "}": 3,
			"alertd_notifications_dropped_total":                                  0,
		}
		if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})

	t.Run("send after stop is dropped and counted", func(t *testing.T) {
		am := newFakeAM(t, nil)
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Targets: []Target{{URL: am.URL}}, Registerer: reg})
		runCancelled(t, f)
		f.Send(numbered(2)...)
		am.none(t)
		want := map[string]float64{"alertd_notifications_dropped_total": 2, "alertd_notifications_queue_length": 0}
		if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		if err := f.Run(context.Background()); err == nil {
			t.Error("second Run returned nil, want an error")
		}
	})
}

func TestApplyConfig(t *testing.T) {
	t.Run("swaps targets and external labels", func(t *testing.T) {
		a, b := newFakeAM(t, nil), newFakeAM(t, nil)
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Targets: []Target{{URL: a.URL}}, Registerer: reg, ExternalLabels: labels.FromStrings("env", "old")})
		stop := run(t, f)

		f.Send(numbered(1)...)
		if got := a.next(t).Alerts[0].Labels["env"]; got != "old" {
			t.Errorf("env = %q before reload, want old", got)
		}
		if err := f.ApplyConfig([]Target{{URL: b.URL}}, labels.FromStrings("env", "new")); err != nil {
			t.Fatalf("ApplyConfig: %v", err)
		}
		f.Send(numbered(1)...)
		if got := b.next(t).Alerts[0].Labels["env"]; got != "new" {
			t.Errorf("env = %q after reload, want new", got)
		}
		stop()
		a.none(t)
		b.none(t)

		got := gather(t, reg)
		want := map[string]float64{
			"alertd_notifications_sent_total{alertmanager=" + b.endpoint() + "}": 1,
			"alertd_notifications_alertmanagers_discovered":                      1,
		}
		if diff := cmp.Diff(want, subset(got, want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		for k := range got {
			if strings.Contains(k, a.URL) {
				t.Errorf("series of the removed target remain: %s", k)
			}
		}
	})

	t.Run("keeps queued alerts", func(t *testing.T) {
		a, b := newFakeAM(t, nil), newFakeAM(t, nil)
		f := newForwarder(t, Options{Targets: []Target{{URL: a.URL}}})
		f.Send(numbered(5)...)
		if err := f.ApplyConfig([]Target{{URL: b.URL}}, labels.EmptyLabels()); err != nil {
			t.Fatalf("ApplyConfig: %v", err)
		}
		runCancelled(t, f)
		if diff := cmp.Diff(seq(0, 5), indexes(b.next(t).Alerts)); diff != "" {
			t.Errorf("alerts at the new target (-want +got):\n%s", diff)
		}
		a.none(t)
	})

	t.Run("error keeps the old config", func(t *testing.T) {
		a := newFakeAM(t, nil)
		f := newForwarder(t, Options{Targets: []Target{{URL: a.URL}}})
		if err := f.ApplyConfig([]Target{{URL: a.URL}, {URL: "ftp://x"}}, labels.EmptyLabels()); err == nil {
			t.Fatal("ApplyConfig accepted an ftp URL")
		}
		f.Send(numbered(1)...)
		runCancelled(t, f)
		a.next(t)
	})

	t.Run("no targets", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		f := newForwarder(t, Options{Registerer: reg})
		f.Send(numbered(3)...)
		runCancelled(t, f)
		want := map[string]float64{
			"alertd_notifications_dropped_total":            0,
			"alertd_notifications_queue_length":             0,
			"alertd_notifications_alertmanagers_discovered": 0,
		}
		if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})
}

func TestHTTPConfig(t *testing.T) {
	cases := []struct {
		name     string
		prefix   string // appended to the server URL
		userinfo string
		http     config.HTTPClientConfig
		wantAuth string
		wantPath string
	}{
		{name: "no auth", wantPath: "/api/v2/alerts"},
		{
			name:     "basic auth",
			http:     config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "alice", Password: "s3cret"}},
			wantAuth: "Basic YWxpY2U6czNjcmV0",
			wantPath: "/api/v2/alerts",
		},
		{
			name:     "authorization bearer",
			http:     config.HTTPClientConfig{Authorization: &config.Authorization{Credentials: "tok3n"}},
			wantAuth: "Bearer tok3n",
			wantPath: "/api/v2/alerts",
		},
		{
			name:     "deprecated bearer_token",
			http:     config.HTTPClientConfig{BearerToken: "tok3n"},
			wantAuth: "Bearer tok3n",
			wantPath: "/api/v2/alerts",
		},
		{name: "userinfo becomes basic auth", userinfo: "alice:s3cret@", wantAuth: "Basic YWxpY2U6czNjcmV0", wantPath: "/api/v2/alerts"},
		{name: "path prefix", prefix: "/alertmanager", wantPath: "/alertmanager/api/v2/alerts"},
		{name: "path prefix with slash", prefix: "/am/", wantPath: "/am/api/v2/alerts"},
		{name: "nested path prefix and auth", prefix: "/a/b", http: config.HTTPClientConfig{Authorization: &config.Authorization{Type: "Token", Credentials: "x"}}, wantAuth: "Token x", wantPath: "/a/b/api/v2/alerts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			am := newFakeAM(t, nil)
			u := strings.Replace(am.URL, "http://", "http://"+tc.userinfo, 1) + tc.prefix
			reg := prometheus.NewRegistry()
			f := newForwarder(t, Options{Targets: []Target{{URL: u, HTTPConfig: tc.http}}, Registerer: reg})
			f.Send(numbered(1)...)
			runCancelled(t, f)
			p := am.next(t)
			if diff := cmp.Diff(post{Path: tc.wantPath, Auth: tc.wantAuth}, post{Path: p.Path, Auth: p.Auth}); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			endpoint := am.URL + tc.wantPath
			want := map[string]float64{"alertd_notifications_sent_total{alertmanager=" + endpoint + "}": 1}
			if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("caller's config is not modified", func(t *testing.T) {
		hc := config.HTTPClientConfig{Authorization: &config.Authorization{Credentials: "x"}}
		if _, err := New(Options{Targets: []Target{{URL: "http://a", HTTPConfig: hc}}}); err != nil {
			t.Fatal(err)
		}
		if hc.Authorization.Type != "" {
			t.Errorf("New set the caller's Authorization.Type to %q", hc.Authorization.Type)
		}
	})
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name    string
		targets []Target
		wantErr string
	}{
		{name: "unparsable", targets: []Target{{URL: "http://a b"}}, wantErr: "invalid url"},
		{name: "unescaped slash in password", targets: []Target{{URL: "http://user:pa/SECRET@host"}}, wantErr: "invalid url"},
		{name: "scheme", targets: []Target{{URL: "ftp://user:SECRET@host"}}, wantErr: `url "ftp://host": scheme must be http or https`},
		{name: "scheme with query", targets: []Target{{URL: "ftp://host/p?token=SECRET"}}, wantErr: `url "ftp://host/p": scheme must be http or https`},
		{name: "no host", targets: []Target{{URL: "http:///x"}}, wantErr: "no host"},
		{name: "query", targets: []Target{{URL: "http://user:SECRET@host/?token=SECRET"}}, wantErr: "must not have a query"},
		{name: "negative timeout", targets: []Target{{URL: "http://host", Timeout: -time.Second}}, wantErr: "negative timeout"},
		{
			name:    "userinfo and basic auth",
			targets: []Target{{URL: "http://user:SECRET@host", HTTPConfig: config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "u", Password: "SECRET"}}}},
			wantErr: `alertmanager target 0: alertmanager "http://host/api/v2/alerts": url userinfo and http_config authentication are mutually exclusive`,
		},
		{
			name:    "invalid http config",
			targets: []Target{{URL: "http://host", HTTPConfig: config.HTTPClientConfig{BearerToken: "SECRET", BearerTokenFile: "/f"}}},
			wantErr: "at most one of bearer_token & bearer_token_file",
		},
		{name: "duplicate", targets: []Target{{URL: "http://host"}, {URL: "http://u:SECRET@host/"}}, wantErr: `alertmanager target 1: duplicate of "http://host/api/v2/alerts"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Targets: tc.targets})
			if err == nil {
				t.Fatal("New returned no error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error reveals a secret: %q", err)
			}
		})
	}
}

func TestSecretsNotLogged(t *testing.T) {
	const user, password = "someuser", "hunter2SECRET"
	failing := newFakeAM(t, status(http.StatusInternalServerError))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	withSecret := func(base string) string {
		return strings.Replace(base, "http://", "http://"+user+":"+password+"@", 1)
	}
	logs := &testenv.SyncBuffer{}
	reg := prometheus.NewRegistry()
	f := newForwarder(t, Options{
		Targets: []Target{
			{URL: withSecret(failing.URL) + "/prefix"},
			{URL: withSecret("http://" + closedAddr)},
			{URL: "http://" + closedAddr + "/other", HTTPConfig: config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: user, Password: password}}},
		},
		Registerer: reg,
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	f.Send(numbered(1)...)
	runCancelled(t, f)
	failing.next(t)

	out := logs.String()
	if n := strings.Count(out, `"msg":"send alerts"`); n != 3 {
		t.Errorf("got %d send errors logged, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, `"alertmanager":"`+failing.URL+`/prefix/api/v2/alerts"`) {
		t.Errorf("log does not name the redacted target:\n%s", out)
	}
	var series []string
	for k := range gather(t, reg) {
		series = append(series, k)
	}
	slices.Sort(series)
	for name, s := range map[string]string{"logs": out, "metrics": strings.Join(series, "\n")} {
		for _, secret := range []string{password, user} {
			if strings.Contains(s, secret) {
				t.Errorf("%s contain %q:\n%s", name, secret, s)
			}
		}
	}
}

func TestMetricsReregistration(t *testing.T) {
	am := newFakeAM(t, nil)
	reg := prometheus.NewRegistry()
	o := Options{Targets: []Target{{URL: am.URL}}, Registerer: reg}
	for i := range 2 {
		f := newForwarder(t, o)
		f.Send(numbered(1)...)
		runCancelled(t, f)
		am.next(t)
		want := map[string]float64{"alertd_notifications_sent_total{alertmanager=" + am.endpoint() + "}": float64(i + 1)}
		if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
			t.Errorf("forwarder %d: metrics (-want +got):\n%s", i, diff)
		}
	}

	conflicting := prometheus.NewRegistry()
	conflicting.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "alertd_notifications_dropped_total", Help: "x"}))
	if _, err := New(Options{Registerer: conflicting}); err == nil {
		t.Error("New accepted a registry with a conflicting metric")
	}
}

func BenchmarkSend(b *testing.B) {
	for _, ext := range []int{0, 2} {
		for _, perSend := range []int{1, 100} {
			b.Run(fmt.Sprintf("external_labels=%d/alerts=%d", ext, perSend), func(b *testing.B) {
				var el []string
				for i := range ext {
					el = append(el, fmt.Sprintf("ext%d", i), "v")
				}
				f, err := New(Options{Targets: []Target{{URL: "http://127.0.0.1:9"}}, ExternalLabels: labels.FromStrings(el...)})
				if err != nil {
					b.Fatal(err)
				}
				alerts := numbered(perSend)
				b.ReportAllocs()
				for b.Loop() {
					f.Send(alerts...)
					if f.queueLen() > DefaultQueueCapacity-perSend {
						f.nextBatch() // keep the queue from overflowing, as Run would
					}
				}
			})
		}
	}
}
