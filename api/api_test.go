package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/eval"
)

type fakeRules []eval.GroupStatus

func (f fakeRules) Status() []eval.GroupStatus { return f }

var (
	ts       = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	statuses = fakeRules{{
		Name:           "g",
		File:           "/rules/a.yml",
		Interval:       time.Minute,
		Limit:          5,
		LastEvaluation: ts,
		EvaluationTime: 2 * time.Millisecond,
		Rules: []eval.RuleStatus{
			{
				Type:           "alerting",
				Name:           "Down",
				Query:          "up == 0",
				Duration:       5 * time.Minute,
				KeepFiringFor:  time.Minute,
				Labels:         labels.FromStrings("severity", "page"),
				Annotations:    labels.FromStrings("summary", "{{ $labels.instance }} down"),
				State:          "firing",
				Health:         eval.HealthGood,
				LastEvaluation: ts,
				EvaluationTime: time.Millisecond,
				Alerts: []eval.AlertStatus{
					{Labels: labels.FromStrings("alertname", "Down", "instance", "b"), Annotations: labels.FromStrings("summary", "b down"), State: eval.StatePending, ActiveAt: ts, Value: 0},
					{Labels: labels.FromStrings("alertname", "Down", "instance", "a"), Annotations: labels.FromStrings("summary", "a down"), State: eval.StateFiring, ActiveAt: ts.Add(-10 * time.Minute), KeepFiringSince: ts, Value: 1234567.891},
				},
			},
			{
				Type:      "recording",
				Name:      "job:up:sum",
				Query:     "sum by (job) (up)",
				Labels:    labels.EmptyLabels(),
				State:     "unknown",
				Health:    eval.HealthUnknown,
				LastError: eval.NotEvaluatedError,
			},
		},
	}}
)

func get(t *testing.T, h http.Handler, method, target string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, string(b)
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// TestRulesJSON pins Prometheus's /api/v1/rules shape.
func TestRulesJSON(t *testing.T) {
	h := api.New(api.Options{Rules: statuses})
	code, body := get(t, h, http.MethodGet, "/api/v1/rules")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	want := `{"status":"success","data":{"groups":[{"name":"g","file":"/rules/a.yml","interval":60,"limit":5,
	"evaluationTime":0.002,"lastEvaluation":"2026-11-23T10:00:00Z","rules":[
	{"state":"firing","name":"Down","query":"up == 0","duration":300,"keepFiringFor":60,
	 "labels":{"severity":"page"},"annotations":{"summary":"{{ $labels.instance }} down"},
	 "alerts":[
	  {"labels":{"alertname":"Down","instance":"a"},"annotations":{"summary":"a down"},"state":"firing",
	   "activeAt":"2026-11-23T09:50:00Z","keepFiringSince":"2026-11-23T10:00:00Z","value":"1.234567891e+06"},
	  {"labels":{"alertname":"Down","instance":"b"},"annotations":{"summary":"b down"},"state":"pending",
	   "activeAt":"2026-11-23T10:00:00Z","value":"0e+00"}],
	 "health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-11-23T10:00:00Z","type":"alerting"},
	{"name":"job:up:sum","query":"sum by (job) (up)","labels":{},"health":"unknown",
	 "lastError":"not evaluated: no remote write configured","evaluationTime":0,
	 "lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"}]}]}}`
	if diff := cmp.Diff(decode(t, want), decode(t, body)); diff != "" {
		t.Errorf("/api/v1/rules (-want +got):\n%s", diff)
	}
}

func TestRulesFilters(t *testing.T) {
	h := api.New(api.Options{Rules: statuses})
	tests := []struct {
		query string
		code  int
		names []string
	}{
		{"type=alert", 200, []string{"Down"}},
		{"type=record", 200, []string{"job:up:sum"}},
		{"rule_name[]=job:up:sum", 200, []string{"job:up:sum"}},
		{"rule_group[]=other", 200, nil},
		{"file[]=/rules/a.yml&type=alert", 200, []string{"Down"}},
		{"type=bogus", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, body := get(t, h, http.MethodGet, "/api/v1/rules?"+tc.query)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code != 200 {
				return
			}
			var r struct {
				Data struct {
					Groups []struct {
						Rules []struct{ Name string }
					}
				}
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range r.Data.Groups {
				for _, rl := range g.Rules {
					names = append(names, rl.Name)
				}
			}
			if diff := cmp.Diff(tc.names, names); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlertsJSON(t *testing.T) {
	h := api.New(api.Options{Rules: statuses})
	_, body := get(t, h, http.MethodGet, "/api/v1/alerts")
	want := `{"status":"success","data":{"alerts":[
	  {"labels":{"alertname":"Down","instance":"a"},"annotations":{"summary":"a down"},"state":"firing",
	   "activeAt":"2026-11-23T09:50:00Z","keepFiringSince":"2026-11-23T10:00:00Z","value":"1.234567891e+06"},
	  {"labels":{"alertname":"Down","instance":"b"},"annotations":{"summary":"b down"},"state":"pending",
	   "activeAt":"2026-11-23T10:00:00Z","value":"0e+00"}]}}`
	if diff := cmp.Diff(decode(t, want), decode(t, body)); diff != "" {
		t.Errorf("/api/v1/alerts (-want +got):\n%s", diff)
	}
}

func TestLifecycle(t *testing.T) {
	ready := false
	reloadErr := errors.New(`rules.yml:3:9: group "g", rule 1, "A": could not parse expression`)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "alertd_test_total", Help: "x"}))
	h := api.New(api.Options{
		Ready:    func() bool { return ready },
		Reload:   func(context.Context) error { return reloadErr },
		Gatherer: reg,
	})
	if code, _ := get(t, h, http.MethodGet, "/-/healthy"); code != 200 {
		t.Errorf("healthy: %d", code)
	}
	if code, _ := get(t, h, http.MethodGet, "/-/ready"); code != 503 {
		t.Errorf("ready before start: %d, want 503", code)
	}
	if code, body := get(t, h, http.MethodGet, "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %d %.80q", code, body)
	}
	ready = true
	if code, _ := get(t, h, http.MethodGet, "/-/ready"); code != 200 {
		t.Errorf("ready: %d", code)
	}
	if code, body := get(t, h, http.MethodPost, "/-/reload"); code != 500 || !strings.Contains(body, "rules.yml:3:9") {
		t.Errorf("failed reload: %d %q", code, body)
	}
	if code, _ := get(t, h, http.MethodGet, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
	reloadErr = nil
	if code, _ := get(t, h, http.MethodPost, "/-/reload"); code != 200 {
		t.Errorf("reload: %d", code)
	}
	if code, body := get(t, h, http.MethodGet, "/metrics"); code != 200 || !strings.Contains(body, "alertd_test_total 0") {
		t.Errorf("metrics: %d %q", code, body)
	}
}
