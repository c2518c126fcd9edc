package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

// t0 is the first tick of the tests' aggregation groups.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday

const (
	groupInterval = 5 * time.Minute
	receiverName  = "team-x"
	groupKey      = `{}:{alertname="Down"}`
)

// request is one request a recorder received.
type request struct {
	at     time.Time
	header http.Header
	body   []byte
	msg    webhook.Message
}

// summary is the message in short: its status, then each alert's
// instance label, with "-" if it is resolved, e.g. "firing a b-".
func (r request) summary() string {
	s := []string{r.msg.Status}
	for _, a := range r.msg.Alerts {
		name := a.Labels["instance"]
		if a.Status == notify.StatusResolved {
			name += "-"
		}
		s = append(s, name)
	}
	return strings.Join(s, " ")
}

// recorder is a webhook receiver on 127.0.0.1 that records what it gets
// and answers with what respond says for the n-th request (from 1); nil
// respond answers 200.
type recorder struct {
	URL     string
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []request
	seen int // requests already returned by take
}

func newRecorder(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{respond: respond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := request{at: time.Now(), header: r.Header.Clone(), body: body}
		if err == nil {
			err = json.Unmarshal(body, &req.msg)
		}
		if err != nil {
			// Not t.Fatal: this is not the test's goroutine.
			http.Error(w, err.Error(), http.StatusTeapot)
			return
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, req)
		n := len(rec.reqs)
		rec.mu.Unlock()
		if rec.respond != nil {
			rec.respond(n, w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL + "/hook"
	return rec
}

// take returns the requests received since the last take.
func (r *recorder) take() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs[r.seen:]
	r.seen = len(r.reqs)
	return out
}

// hook builds a webhook integration for rec.
func hook(t *testing.T, idx int, rec *recorder, sendResolved bool) notify.Integration {
	t.Helper()
	n, err := webhook.New(idx, webhook.Config{URL: rec.URL, SendResolved: sendResolved}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newPipeline builds a Pipeline with a backoff of milliseconds.
func newPipeline(t *testing.T, o notify.Options) *notify.Pipeline {
	t.Helper()
	p, err := notify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	notify.SetBackoff(p, time.Millisecond, 10*time.Millisecond)
	return p
}

// firing is a firing alert of the group Down, told apart by instance.
func firing(instance string) *alert.Alert {
	return &alert.Alert{
		Labels:      labels.FromStrings("alertname", "Down", "instance", instance),
		Annotations: labels.FromStrings("summary", instance+" is down"),
		StartsAt:    t0.Add(-time.Minute),
	}
}

// resolved is the alert that resolved at at.
func resolved(instance string, at time.Time) *alert.Alert {
	a := firing(instance)
	a.EndsAt = at
	return a
}

// flush is the group's notification at tick now.
func flush(now time.Time, repeat time.Duration, alerts ...*alert.Alert) *alert.Notification {
	return &alert.Notification{
		GroupKey:       groupKey,
		GroupLabels:    labels.FromStrings("alertname", "Down"),
		Receiver:       receiverName,
		RepeatInterval: repeat,
		Now:            now,
		Alerts:         alerts,
	}
}

// ctxFor is a flush context with Alertmanager's deadline,
// max(group_interval, 10s).
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), groupInterval)
	t.Cleanup(cancel)
	return ctx
}

// muter mutes the alerts whose instance is in the set.
type muter struct {
	mu        sync.Mutex
	instances map[string]bool
}

func (m *muter) set(instances ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.instances = map[string]bool{}
	for _, i := range instances {
		m.instances[i] = true
	}
}

func (m *muter) Mutes(ls labels.Labels) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.instances[ls.Get("instance")] {
		return []string{"some-id"}
	}
	return nil
}

// metric returns the value of the counter or histogram count name{lbls}
// in reg, or -1 if there is no such series.
func metric(t *testing.T, reg *prometheus.Registry, name string, lbls ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(lbls); i += 2 {
		want[lbls[i]] = lbls[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetGauge().GetValue()
}
