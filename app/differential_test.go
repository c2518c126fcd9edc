package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/internal/testenv"
)

// The rules both Prometheus 2.42 and alertd load from the same path, so
// their groups get the same slots.
const diffRules = `groups:
- name: diff
  interval: 2s
  rules:
  - alert: HighValue
    expr: diff_value > 5
    for: 6s
    labels:
      severity: "{{ if gt $value 10.0 }}critical{{ else }}warning{{ end }}"
      job: "{{ $labels.job }}-x"
    annotations:
      summary: "{{ $labels.instance }} value {{ $value | humanize }}"
      description: "{{ humanizeDuration $value }} / {{ $value | humanizePercentage }} / {{ $value }}"
  - alert: AnyDown
    expr: diff_up == 0
    labels:
      instance: ""
      severity: page
  - alert: Flappy
    expr: diff_flap > 0
    keep_firing_for: 6s
    annotations:
      summary: "{{ $labels.instance }} flaps ({{ $value }})"
  - alert: Missing
    expr: absent(diff_missing{job="diff"})
    annotations:
      summary: "{{ $labels.job }} is missing"
`

// Group labels are Prometheus 3 syntax; 2.42 gets the same rule with the
// group label written on the rule.
const (
	groupLabelRulesAlertd = `groups:
- name: labelled
  interval: 2s
  labels: {team: core, severity: low}
  rules:
  - alert: TeamAlert
    expr: diff_value > 2
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} for {{ $labels.team }}"}
`
	groupLabelRulesPrometheus = `groups:
- name: labelled
  interval: 2s
  rules:
  - alert: TeamAlert
    expr: diff_value > 2
    labels: {severity: page, team: core}
    annotations: {summary: "{{ $labels.instance }} for {{ $labels.team }}"}
`
)

// TestDifferentialPrometheus loads the same rules into a real Prometheus
// 2.42 and into alertd (which queries that Prometheus), changes the scraped
// values over time, and at several moments checks that both report the
// same alerts, states, labels and annotations.
func TestDifferentialPrometheus(t *testing.T) {
	const interval = 2 * time.Second
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "diff.yml")
	write(t, rulesFile, diffRules)
	write(t, filepath.Join(dir, "alertd", "labelled.yml"), groupLabelRulesAlertd)
	write(t, filepath.Join(dir, "prom", "labelled.yml"), groupLabelRulesPrometheus)

	target := testenv.NewTarget(t)
	// Nothing fires at first, so both start from the same state.
	target.SetMany(map[string]float64{
		`diff_value{job="diff",instance="a"}`: 1,
		`diff_value{job="diff",instance="b"}`: 1,
		`diff_up{job="diff",instance="a"}`:    1,
		`diff_up{job="diff",instance="b"}`:    1,
		`diff_missing{job="diff"}`:            1,
	})
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{
		ScrapeTargets:      []string{target.HostPort},
		ScrapeInterval:     time.Second,
		EvaluationInterval: time.Second,
		RuleFiles:          []string{rulesFile, filepath.Join(dir, "prom", "labelled.yml")},
	})
	ctx := t.Context()
	if err := prom.WaitForScrape(ctx, "diff_value"); err != nil {
		t.Fatal(err)
	}
	_, base := startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: 2s
datasource:
  url: %s
  timeout: 5s
rule_files: [%q, %q]
`, prom.URL, rulesFile, filepath.Join(dir, "alertd", "labelled.yml")))

	// checkpoint waits until Prometheus's alerts satisfy want, then until
	// alertd reports the same alerts, within two intervals: an evaluation
	// may see a scrape one interval before or after the other system does,
	// when the scrape commits between their queries of the same slot.
	checkpoint := func(name string, want func([]apiAlert) error) {
		t.Helper()
		var promAlerts []apiAlert
		err := eventually(ctx, 20*time.Second, func(ctx context.Context) error {
			var err error
			if promAlerts, err = alerts(ctx, prom.URL); err != nil {
				return err
			}
			return want(promAlerts)
		})
		if err != nil {
			t.Fatalf("%s: Prometheus never got there: %v\nalerts: %+v", name, err, promAlerts)
		}
		var diff string
		err = eventually(ctx, 2*interval+500*time.Millisecond, func(ctx context.Context) error {
			pa, err := alerts(ctx, prom.URL)
			if err != nil {
				return err
			}
			aa, err := alerts(ctx, base)
			if err != nil {
				return err
			}
			if diff = compareAlerts(pa, aa, interval); diff != "" {
				return fmt.Errorf("differ")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: alertd and Prometheus differ (-prometheus +alertd):\n%s", name, diff)
		}
		t.Logf("%s: %d alerts identical", name, len(promAlerts))
	}

	if err := eventually(ctx, 5*interval, func(ctx context.Context) error {
		groups, err := ruleGroups(ctx, base)
		if err != nil {
			return err
		}
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.LastEval.IsZero() {
					return fmt.Errorf("rule %s not evaluated yet", r.Name)
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkpoint("quiet", func(as []apiAlert) error {
		if len(as) != 0 {
			return fmt.Errorf("%d alerts", len(as))
		}
		return nil
	})

	target.SetMany(map[string]float64{
		`diff_value{job="diff",instance="a"}`: 7,
		`diff_value{job="diff",instance="b"}`: 20,
		`diff_up{job="diff",instance="b"}`:    0,
		`diff_flap{job="diff",instance="a"}`:  1,
	})
	target.Delete(`diff_missing{job="diff"}`)
	checkpoint("all firing", func(as []apiAlert) error {
		return expect(as,
			`HighValue{instance="a",severity="warning"}=firing`,
			`HighValue{instance="b",severity="critical"}=firing`,
			`AnyDown{}=firing`,
			`Flappy{instance="a"}=firing`,
			`Missing{}=firing`,
			`TeamAlert{instance="a"}=firing`,
			`TeamAlert{instance="b"}=firing`,
		)
	})

	// a crosses 10: its severity label changes, so a new alert starts
	// pending; the flap series goes away and keep_firing_for holds it;
	// the down series comes back; the missing series is back.
	target.SetMany(map[string]float64{
		`diff_value{job="diff",instance="a"}`: 12,
		`diff_up{job="diff",instance="b"}`:    1,
		`diff_missing{job="diff"}`:            1,
	})
	target.Delete(`diff_flap{job="diff",instance="a"}`)
	checkpoint("changed", func(as []apiAlert) error {
		if err := expect(as, `HighValue{instance="a",severity="critical"}=pending`, `Flappy{instance="a"}=firing`); err != nil {
			return err
		}
		for _, a := range as {
			if a.Labels["alertname"] == "Flappy" && a.KeepFiringSince == nil {
				return fmt.Errorf("flappy not yet kept firing")
			}
			if a.Labels["alertname"] == "AnyDown" || a.Labels["alertname"] == "Missing" {
				return fmt.Errorf("%s still active", a.Labels["alertname"])
			}
		}
		return nil
	})

	checkpoint("settled", func(as []apiAlert) error {
		if err := expect(as,
			`HighValue{instance="a",severity="critical"}=firing`,
			`HighValue{instance="b",severity="critical"}=firing`,
			`TeamAlert{instance="a"}=firing`,
			`TeamAlert{instance="b"}=firing`,
		); err != nil {
			return err
		}
		if len(as) != 4 {
			return fmt.Errorf("%d alerts, want 4", len(as))
		}
		return nil
	})

	// The JSON of /api/v1/rules has Prometheus's fields.
	if diff := cmp.Diff(jsonKeys(t, prom.URL+"/api/v1/rules"), jsonKeys(t, base+"/api/v1/rules")); diff != "" {
		t.Errorf("/api/v1/rules fields (-prometheus +alertd):\n%s", diff)
	}

	// /metrics has the evaluation figures per group, the alerts by state
	// and the datasource latency.
	metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{
		`alertd_rule_group_last_duration_seconds{rule_group="` + rulesFile + `;diff"}`,
		`alertd_rule_evaluation_failures_total{rule_group="` + rulesFile + `;diff"} 0`,
		`alertd_rule_group_iterations_missed_total{rule_group="` + rulesFile + `;diff"}`,
		`alertd_alerts{state="firing"} 4`,
		`alertd_alerts{state="pending"} 0`,
		`alertd_datasource_request_duration_seconds_count`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Every rule of alertd is healthy.
	groups, err := ruleGroups(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q, lastError %q", r.Name, r.Health, r.LastError)
			}
		}
	}
	if n != 5 {
		t.Errorf("alertd lists %d rules, want 5", n)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// expect checks that alerts holds each of want, written
// Name{label="value",...}=state with a subset of the labels.
func expect(as []apiAlert, want ...string) error {
	for _, w := range want {
		name, rest, _ := strings.Cut(w, "{")
		lbls, state, _ := strings.Cut(rest, "}=")
		found := false
		for _, a := range as {
			if a.Labels["alertname"] != name || a.State != state {
				continue
			}
			ok := true
			for _, kv := range strings.Split(lbls, ",") {
				if kv == "" {
					continue
				}
				k, v, _ := strings.Cut(kv, "=")
				if a.Labels[k] != strings.Trim(v, `"`) {
					ok = false
				}
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("no alert %s", w)
		}
	}
	return nil
}

// compareAlerts returns a diff of two alert lists: labels, annotations,
// state, value and keep-firing must be equal; activeAt within tolerance.
func compareAlerts(prom, alertd []apiAlert, tolerance time.Duration) string {
	key := func(a apiAlert) string { return fmt.Sprint(a.Labels) }
	sort := func(as []apiAlert) []apiAlert {
		out := slices.Clone(as)
		slices.SortFunc(out, func(a, b apiAlert) int { return strings.Compare(key(a), key(b)) })
		return out
	}
	type view struct {
		Labels      map[string]string
		Annotations map[string]string
		State       string
		Value       string
		KeepFiring  bool
	}
	views := func(as []apiAlert) []view {
		var out []view
		for _, a := range sort(as) {
			out = append(out, view{a.Labels, a.Annotations, a.State, a.Value, a.KeepFiringSince != nil})
		}
		return out
	}
	if d := cmp.Diff(views(prom), views(alertd)); d != "" {
		return d
	}
	ps, as := sort(prom), sort(alertd)
	for i := range ps {
		if d := ps[i].ActiveAt.Sub(as[i].ActiveAt).Abs(); d > tolerance {
			return fmt.Sprintf("alert %s: activeAt %v (Prometheus) vs %v (alertd)", key(ps[i]), ps[i].ActiveAt, as[i].ActiveAt)
		}
	}
	return ""
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKeys returns the keys of every object in a JSON document, by path
// (arrays collapsed), e.g. "data.groups[].rules[].alerts[].activeAt".
func jsonKeys(t *testing.T, url string) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(httpGet(t, url)), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if strings.HasSuffix(path, ".labels") || strings.HasSuffix(path, ".annotations") {
				return // user data, not shape
			}
			for k, e := range v {
				seen[path+"."+k] = true
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", doc)
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
