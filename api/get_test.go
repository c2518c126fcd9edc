package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/silences"
	"github.com/alertd/alertd/web"
)

// TestGetChangesNothing walks every route the API registers and sends a
// GET to its path (a GET reaches GET routes, routes of any method, and the
// 405 answers of routes of other methods), and checks that the state the
// API can change is as before: the alerts (and the number of Puts), the
// silences, and the number of reloads. pprof's profile and trace run for
// a second: they cost CPU but change nothing.
func TestGetChangesNothing(t *testing.T) {
	now := time.Now()
	store := newFakeStore()
	sils := newFakeSilences(time.Now)
	var reloads atomic.Int64
	reg := prometheus.NewRegistry()
	history, err := notify.NewHistoryLog(notify.HistoryLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	history.Record(notify.HistoryEntry{Time: now, Receiver: "default", Integration: "webhook", GroupKey: "{}:{}", Firing: 1})
	h := api.New(api.Options{
		Rules:    statuses,
		Reload:   func(context.Context) error { reloads.Add(1); return nil },
		Ready:    func() bool { return true },
		Gatherer: reg,
		Alertmanager: &api.AlertmanagerOptions{
			Alerts:     store,
			Router:     &fakeRouter{store: store},
			Silences:   sils,
			Silencer:   sils,
			Inhibitor:  inhibitor(),
			ConfigYAML: func() string { return amConfig },
			Receivers:  func() []string { return []string{"default", "team-a"} },
		},
		Notifications: history,
		DatasourceURL: func() string { return "http://prometheus.test:9090" },
		UI:            web.Handler(),
	})
	if err := store.Put(
		&alert.Alert{Labels: labels.FromStrings("alertname", "A", "team", "a"), StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), UpdatedAt: now},
		&alert.Alert{Labels: labels.FromStrings("alertname", "B"), StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), UpdatedAt: now, Timeout: true},
	); err != nil {
		t.Fatal(err)
	}
	const silenceID = "00000000-0000-4000-8000-000000000001"
	m, err := amlabels.NewMatcher(amlabels.MatchEqual, "alertname", "A")
	if err != nil {
		t.Fatal(err)
	}
	sils.add(&silences.Silence{ID: silenceID, Matchers: amlabels.Matchers{m}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), UpdatedAt: now, CreatedBy: "me", Comment: "c"})

	state := func() []string {
		var out []string
		for _, a := range store.List() {
			out = append(out, fmt.Sprintf("alert %+v", *a))
		}
		for _, s := range sils.List() {
			out = append(out, fmt.Sprintf("silence %+v", *s))
		}
		for _, e := range history.List() {
			out = append(out, fmt.Sprintf("notification %+v", e))
		}
		slices.Sort(out)
		store.mu.Lock()
		out = append(out, fmt.Sprintf("puts %d", store.puts))
		store.mu.Unlock()
		return append(out, fmt.Sprintf("reloads %d", reloads.Load()))
	}
	before := state()

	// Extra paths under the subtree patterns, and query parameters that
	// keep the profiles short.
	extra := map[string][]string{
		"/debug/pprof/":         {"/debug/pprof/heap", "/debug/pprof/goroutine?debug=1", "/debug/pprof/allocs"},
		"/debug/pprof/profile":  {"/debug/pprof/profile?seconds=1"},
		"/debug/pprof/trace":    {"/debug/pprof/trace?seconds=1"},
		"/api/v2/":              {"/api/v2/nope"},
		"/api/v2/alerts":        {"/api/v2/alerts?filter=alertname%3DA&silenced=false&inhibited=false&active=true&unprocessed=true"},
		"/api/v2/silences":      {"/api/v2/silences?filter=alertname%3DA"},
		"/api/v2/alerts/groups": {"/api/v2/alerts/groups?receiver=default"},
		"/api/v1/notifications": {"/api/v1/notifications?limit=1&receiver=default"},
		"/static/":              {"/static/js/main.js", "/static/style.css", "/static/nope"},
	}
	patterns := api.Patterns(h)
	var targets []string
	for _, p := range patterns {
		_, path, ok := strings.Cut(p, " ")
		if !ok {
			path = p
		}
		path = strings.ReplaceAll(path, "{id}", silenceID)
		path = strings.ReplaceAll(path, "{$}", "")
		if path == "/debug/pprof/profile" || path == "/debug/pprof/trace" {
			targets = append(targets, extra[path]...)
			continue
		}
		targets = append(targets, path)
		targets = append(targets, extra[path]...)
	}
	for _, want := range []string{"POST /-/reload", "PUT /-/reload", "POST /api/v2/alerts", "POST /api/v2/silences", "DELETE /api/v2/silence/{id}", "GET /api/v2/silence/{id}", "GET /metrics",
		"GET /api/v1/notifications", "GET /api/v1/status/datasource", "GET /{$}", "GET /static/"} {
		if !slices.Contains(patterns, want) {
			t.Errorf("route %q is not registered: %q", want, patterns)
		}
	}
	slices.Sort(targets)
	for _, target := range slices.Compact(targets) {
		t.Run(target, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Errorf("GET %s: %d %.200s", target, rec.Code, rec.Body.String())
			}
			if diff := cmp.Diff(before, state()); diff != "" {
				t.Errorf("GET %s (%d) changed the state (-before +after):\n%s", target, rec.Code, diff)
			}
		})
	}
}
