package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/silences"
)

// FuzzV2Filter sends two fuzzed filter=… matchers (what amtool and Grafana
// send) to GET /api/v2/alerts, /api/v2/alerts/groups and
// /api/v2/silences. Each must answer 400 exactly when Alertmanager's
// matcher parser (pkg/labels.ParseMatcher, the classic syntax) rejects a
// filter, else 200 with the alerts whose labels all filters match and the
// silences that have a matcher identical to each filter, as Alertmanager
// lists them.
func FuzzV2Filter(f *testing.F) {
	for _, s := range [][3]string{
		{`alertname="Down"`, `instance=~"a|b"`, "a"},
		{`instance!=""`, `team!~"db.*"`, ""},
		{`instance=~"(?i)WEB-.*"`, `alertname=Down`, "web-1"},
		{`{instance="a"}`, `instance = "a"`, "a"},
		{`instance="a\"b"`, `instance=~"a\\.b"`, `a"b`},
		{`instance="a\nb"`, "instance=a\\\nb", "a\nb"},
		{`instance=~"("`, "foo", "("},
		{"", `0bad="x"`, "x"},
		{`a="b}`, `a=b}`, "b}"},
		{`"foo bar"="x"`, `instance="\xff"`, "\xff"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, f1, f2, value string) {
		store := newFakeStore()
		alerts := []*alert.Alert{
			// Empty labels are dropped when alerts are received.
			{Labels: labels.NewBuilder(labels.FromStrings("alertname", "Down")).Set("instance", value).Labels()},
			{Labels: labels.FromStrings("alertname", "Down", "instance", "a", "team", "db")},
			{Labels: labels.FromStrings("alertname", "Up")},
		}
		for _, a := range alerts {
			a.StartsAt, a.EndsAt = now.Add(-time.Hour), now.Add(time.Hour)
		}
		if err := store.Put(alerts...); err != nil {
			t.Fatal(err)
		}
		sils := newFakeSilences(func() time.Time { return now })
		silenceMatchers := []amlabels.Matchers{{mustMatcher(t, amlabels.MatchEqual, "instance", value)}}
		for _, s := range []string{f1, f2} {
			if ms, err := amlabels.ParseMatchers(s); err == nil && len(ms) > 0 {
				silenceMatchers = append(silenceMatchers, ms)
			}
		}
		for i, ms := range silenceMatchers {
			sils.add(&silences.Silence{ID: string(rune('a' + i)), Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Hour)})
		}
		h := api.New(api.Options{Alertmanager: &api.AlertmanagerOptions{
			Alerts: store, Router: &fakeRouter{store: store}, Silences: sils, Silencer: sils, Inhibitor: inhibitor(),
			Now: func() time.Time { return now },
		}})

		var filters amlabels.Matchers
		valid := true
		for _, s := range []string{f1, f2} {
			m, err := amlabels.ParseMatcher(s)
			if err != nil {
				valid = false
				break
			}
			filters = append(filters, m)
		}
		query := "?" + url.Values{"filter": {f1, f2}}.Encode()
		for _, path := range []string{"/api/v2/alerts", "/api/v2/alerts/groups", "/api/v2/silences"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path+query, nil))
			want := http.StatusBadRequest
			if valid {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Fatalf("GET %s%s: status %d, want %d (Alertmanager's parser: %v): %s", path, query, rec.Code, want, filters, rec.Body)
			}
			if !valid {
				continue
			}
			switch path {
			case "/api/v2/alerts":
				var got []struct{ Fingerprint string }
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("GET %s%s: %v: %s", path, query, err, rec.Body)
				}
				var gotFPs, wantFPs []string
				for _, a := range got {
					gotFPs = append(gotFPs, a.Fingerprint)
				}
				for _, a := range alerts {
					if matchesAll(filters, a.Labels) {
						wantFPs = append(wantFPs, model.Fingerprint(a.Fingerprint()).String())
					}
				}
				slices.Sort(gotFPs)
				slices.Sort(wantFPs)
				if diff := cmp.Diff(wantFPs, gotFPs); diff != "" {
					t.Fatalf("GET %s%s: alerts (-want +got):\n%s", path, query, diff)
				}
			case "/api/v2/silences":
				var got []struct{ ID string }
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("GET %s%s: %v: %s", path, query, err, rec.Body)
				}
				var gotIDs, wantIDs []string
				for _, s := range got {
					gotIDs = append(gotIDs, s.ID)
				}
				for i, ms := range silenceMatchers {
					if hasIdentical(ms, filters) {
						wantIDs = append(wantIDs, string(rune('a'+i)))
					}
				}
				slices.Sort(gotIDs)
				if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
					t.Fatalf("GET %s%s: silences (-want +got):\n%s", path, query, diff)
				}
			}
		}
	})
}

func mustMatcher(t *testing.T, typ amlabels.MatchType, name, value string) *amlabels.Matcher {
	t.Helper()
	m, err := amlabels.NewMatcher(typ, name, value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// matchesAll is Alertmanager's API v2 matchFilterLabels (unexported, so
// copied): every matcher matches the label's value, a missing label being
// "", except that an empty-valued matcher accepts a missing label (=, =~)
// or a present one (!=, !~) without looking further.
func matchesAll(ms amlabels.Matchers, ls labels.Labels) bool {
	sms := ls.Map()
	for _, m := range ms {
		v, prs := sms[m.Name]
		switch m.Type {
		case amlabels.MatchNotRegexp, amlabels.MatchNotEqual:
			if m.Value == "" && prs {
				continue
			}
			if !m.Matches(v) {
				return false
			}
		default:
			if m.Value == "" && !prs {
				continue
			}
			if !m.Matches(v) {
				return false
			}
		}
	}
	return true
}

// hasIdentical is Alertmanager's checkMatcherSetMatchesFilterLabels: every
// filter has a matcher of the silence with its name, type and value.
func hasIdentical(silence, filters amlabels.Matchers) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(silence, func(m *amlabels.Matcher) bool {
			return m.Name == f.Name && m.Type == f.Type && m.Value == f.Value
		}) {
			return false
		}
	}
	return true
}
