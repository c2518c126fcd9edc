package eval_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/internal/testenv"
	"github.com/alertd/alertd/rules"
)

// captureSink records what the manager sends.
type captureSink struct {
	mu     sync.Mutex
	alerts []*alert.Alert
}

func (s *captureSink) Send(as ...*alert.Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, as...)
}

// take returns what was sent since the last take.
func (s *captureSink) take() []*alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.alerts
	s.alerts = nil
	return out
}

// sentAlert is an alert as sent, for comparison.
type sentAlert struct {
	Labels   string
	StartsAt time.Time
	EndsAt   time.Time
}

func sentAlerts(as []*alert.Alert) []sentAlert {
	var out []sentAlert
	for _, a := range as {
		out = append(out, sentAlert{Labels: a.Labels.String(), StartsAt: a.StartsAt, EndsAt: a.EndsAt})
	}
	return out
}

// scriptedPrometheus is a local query API that answers every query with
// the current reply.
type scriptedPrometheus struct {
	*httptest.Server
	reply atomic.Pointer[http.HandlerFunc]
}

func newScriptedPrometheus(t *testing.T) *scriptedPrometheus {
	t.Helper()
	p := &scriptedPrometheus{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		// Consume the form so that the server notices the client going
		// away (and cancels r.Context()).
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		(*p.reply.Load())(w, r)
	}))
	t.Cleanup(p.Close)
	p.set(replyJSON(http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[]}}`))
	return p
}

func (p *scriptedPrometheus) set(h http.HandlerFunc) { p.reply.Store(&h) }

func replyJSON(status int, body string) http.HandlerFunc {
	return reply(status, "application/json", body)
}

func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// replySlow answers only when the client has gone (or after 10s, so that
// a broken client cannot hang the test server's Close).
func replySlow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
		replyJSON(http.StatusOK, downVector)(w, r)
	}
}

const downVector = `{"status":"success","data":{"resultType":"vector","result":[` +
	`{"metric":{"__name__":"up","job":"node","instance":"a:9100"},"value":[1700000000,"0"]}]}}`

const faultRules = `groups:
- name: faults
  rules:
  - alert: InstanceDown
    expr: up == 0
    labels:
      severity: page
`

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

func newClient(t *testing.T, url string, timeout time.Duration) *datasource.Client {
	t.Helper()
	c, err := datasource.New(datasource.Options{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDatasourceFaultsFreezeState runs one alerting rule through every kind
// of datasource failure with the real client against a local server. A
// failure must never resolve (or re-send) the alert: the rule is unhealthy,
// its alerts keep their state, and nothing is sent, as in Prometheus
// (spec §1.12, §4).
func TestDatasourceFaultsFreezeState(t *testing.T) {
	prom := newScriptedPrometheus(t)
	const timeout = 200 * time.Millisecond
	good := newClient(t, prom.URL, timeout)
	refused := newClient(t, closedURL(t), timeout)
	var client atomic.Pointer[datasource.Client]
	client.Store(good)

	groups, err := rules.Parse("faults.yml", []byte(faultRules))
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{
		Query: func(ctx context.Context, q string, ts time.Time) (datasource.Vector, error) {
			return client.Load().Query(ctx, q, ts)
		},
		Sink: sink,
	})
	const interval, resend = time.Minute, time.Minute
	if err := m.Update(eval.Settings{DefaultInterval: interval, ResendDelay: resend}, groups); err != nil {
		t.Fatal(err)
	}
	g := m.Groups()[0]
	ctx := t.Context()

	start := time.Unix(1_700_000_000, 0).UTC()
	ts := start
	const alertLabels = `{alertname="InstanceDown", instance="a:9100", job="node", severity="page"}`

	// checkFiring checks that the one alert fires since start.
	checkFiring := func(t *testing.T, rs eval.RuleStatus) {
		t.Helper()
		if len(rs.Alerts) != 1 {
			t.Fatalf("alerts: %+v, want one", rs.Alerts)
		}
		a := rs.Alerts[0]
		if a.State != eval.StateFiring || !a.ActiveAt.Equal(start) || !a.FiredAt.Equal(start) || a.Labels.String() != alertLabels {
			t.Errorf("alert: state %v, activeAt %v, firedAt %v, labels %v; want firing since %v with %s",
				a.State, a.ActiveAt, a.FiredAt, a.Labels, start, alertLabels)
		}
	}

	// A good answer: the alert fires and is sent once.
	prom.set(replyJSON(http.StatusOK, downVector))
	g.Eval(ctx, ts)
	rs := g.Status().Rules[0]
	if rs.Health != eval.HealthGood || rs.LastError != "" {
		t.Fatalf("first evaluation: health %q, last error %q", rs.Health, rs.LastError)
	}
	checkFiring(t, rs)
	want := []sentAlert{{Labels: alertLabels, StartsAt: start, EndsAt: start.Add(4 * interval)}}
	if diff := cmp.Diff(want, sentAlerts(sink.take())); diff != "" {
		t.Fatalf("first evaluation: sent (-want +got):\n%s", diff)
	}

	faults := []struct {
		name    string
		reply   http.HandlerFunc
		refused bool
		wantErr []string // substrings of the rule's last error
	}{
		{
			name:    "400 bad_data",
			reply:   replyJSON(http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error: unexpected end of input"}`),
			wantErr: []string{"bad_data", "HTTP 400", "parse error"},
		},
		{
			name:    "422 execution",
			reply:   replyJSON(http.StatusUnprocessableEntity, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`),
			wantErr: []string{"execution", "HTTP 422", "duplicate series"},
		},
		{
			name: "503 plain text while Prometheus starts",
			reply: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Prometheus-Stopping", "false")
				reply(http.StatusServiceUnavailable, "text/plain; charset=utf-8", "Service Unavailable\n")(w, r)
			},
			wantErr: []string{"HTTP 503", "Service Unavailable"},
		},
		{
			name:    "502 HTML from a proxy",
			reply:   reply(http.StatusBadGateway, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"),
			wantErr: []string{"HTTP 502", "Bad Gateway", "nginx"},
		},
		{
			name:    "200 with garbage",
			reply:   reply(http.StatusOK, "application/json", "\x00\x01 this is not JSON at all"),
			wantErr: []string{"invalid response body", "HTTP 200"},
		},
		{
			name:    "200 with truncated JSON",
			reply:   replyJSON(http.StatusOK, downVector[:len(downVector)/2]),
			wantErr: []string{"invalid response body", "HTTP 200"},
		},
		{
			name:    "200 with status error",
			reply:   replyJSON(http.StatusOK, `{"status":"error","errorType":"internal","error":"storage is on fire"}`),
			wantErr: []string{"internal", "HTTP 200", "storage is on fire"},
		},
		{
			name:    "matrix result",
			reply:   replyJSON(http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1700000000,"0"]]}]}}`),
			wantErr: []string{"not a vector or scalar", "matrix"},
		},
		{
			name:    "string result",
			reply:   replyJSON(http.StatusOK, `{"status":"success","data":{"resultType":"string","result":[1700000000,"up"]}}`),
			wantErr: []string{"not a vector or scalar", "string"},
		},
		{
			name:    "timeout",
			reply:   replySlow,
			wantErr: []string{"timed out", timeout.String()},
		},
		{
			name:    "connection refused",
			refused: true,
			wantErr: []string{"connection refused", "/api/v1/query"},
		},
	}
	lastSent := start
	for _, f := range faults {
		ts = ts.Add(interval)
		t.Run(f.name, func(t *testing.T) {
			if f.refused {
				client.Store(refused)
				defer client.Store(good)
			} else {
				prom.set(f.reply)
			}
			g.Eval(ctx, ts)
			rs := g.Status().Rules[0]
			if rs.Health != eval.HealthBad {
				t.Errorf("health %q, want %q", rs.Health, eval.HealthBad)
			}
			for _, w := range f.wantErr {
				if !strings.Contains(rs.LastError, w) {
					t.Errorf("last error %q does not mention %q", rs.LastError, w)
				}
			}
			if !rs.LastEvaluation.Equal(ts) {
				t.Errorf("last evaluation %v, want %v", rs.LastEvaluation, ts)
			}
			checkFiring(t, rs)
			// A datasource that does not answer freezes the state and the
			// alert is still sent on its resend cadence (so receivers do
			// not resolve it); nothing sent may resolve it.
			if got := sink.take(); len(got) > 0 {
				lastSent = ts
				for _, a := range got {
					if a.Resolved(ts) || !a.StartsAt.Equal(start) {
						t.Errorf("a failed evaluation sent a changed alert: %+v", a)
					}
				}
			}
		})
	}

	// Good again: healthy, the same alert still firing, and re-sent if the
	// resend delay has passed since it was last sent (LastSentAt+resend <
	// ts), during the failures or before.
	ts = ts.Add(interval)
	prom.set(replyJSON(http.StatusOK, downVector))
	g.Eval(ctx, ts)
	rs = g.Status().Rules[0]
	if rs.Health != eval.HealthGood || rs.LastError != "" {
		t.Fatalf("recovery: health %q, last error %q", rs.Health, rs.LastError)
	}
	checkFiring(t, rs)
	want = nil
	if lastSent.Add(resend).Before(ts) {
		want = []sentAlert{{Labels: alertLabels, StartsAt: start, EndsAt: ts.Add(4 * interval)}}
	}
	if diff := cmp.Diff(want, sentAlerts(sink.take())); diff != "" {
		t.Fatalf("recovery: sent (-want +got):\n%s", diff)
	}

	// An empty vector resolves it, normally.
	ts = ts.Add(interval)
	prom.set(replyJSON(http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[]}}`))
	g.Eval(ctx, ts)
	rs = g.Status().Rules[0]
	if rs.Health != eval.HealthGood || len(rs.Alerts) != 0 || rs.State != "inactive" {
		t.Fatalf("resolution: health %q, state %q, alerts %+v", rs.Health, rs.State, rs.Alerts)
	}
	want = []sentAlert{{Labels: alertLabels, StartsAt: start, EndsAt: ts}}
	if diff := cmp.Diff(want, sentAlerts(sink.take())); diff != "" {
		t.Fatalf("resolution: sent (-want +got):\n%s", diff)
	}
}

// TestDatasourceFaultKeepsPendingTimer checks the other half of a frozen
// state: a pending alert's for timer keeps running through failures, so
// it fires on the first good evaluation once for has passed (spec §1.12).
func TestDatasourceFaultKeepsPendingTimer(t *testing.T) {
	prom := newScriptedPrometheus(t)
	client := newClient(t, prom.URL, 5*time.Second)
	groups, err := rules.Parse("pending.yml", []byte(`groups:
- name: pending
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 3m
`))
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{Query: client.Query, Sink: sink})
	if err := m.Update(eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}, groups); err != nil {
		t.Fatal(err)
	}
	g := m.Groups()[0]
	start := time.Unix(1_700_000_000, 0).UTC()
	steps := []struct {
		reply     http.HandlerFunc
		wantState string
		wantSent  int
	}{
		{replyJSON(http.StatusOK, downVector), "pending", 0},
		{reply(http.StatusServiceUnavailable, "text/plain", "Service Unavailable"), "pending", 0},
		{reply(http.StatusServiceUnavailable, "text/plain", "Service Unavailable"), "pending", 0},
		{reply(http.StatusServiceUnavailable, "text/plain", "Service Unavailable"), "pending", 0},
		{replyJSON(http.StatusOK, downVector), "firing", 1}, // 4m after ActiveAt
	}
	for i, st := range steps {
		ts := start.Add(time.Duration(i) * time.Minute)
		prom.set(st.reply)
		g.Eval(t.Context(), ts)
		rs := g.Status().Rules[0]
		if rs.State != st.wantState {
			t.Errorf("step %d: state %q, want %q (last error %q)", i, rs.State, st.wantState, rs.LastError)
		}
		if len(rs.Alerts) != 1 || !rs.Alerts[0].ActiveAt.Equal(start) {
			t.Errorf("step %d: alerts %+v, want one active since %v", i, rs.Alerts, start)
		}
		if got := sink.take(); len(got) != st.wantSent {
			t.Errorf("step %d: sent %s, want %d alerts", i, fmt.Sprint(sentAlerts(got)), st.wantSent)
		}
	}
}
