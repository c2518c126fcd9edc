package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func series(s string, v float64) datasource.Sample {
	m, err := parseMetric(s)
	if err != nil {
		panic(err)
	}
	return datasource.Sample{Metric: m, Value: v}
}

// sent is what one evaluation sent, for comparison.
type sent struct {
	Labels      string
	Annotations string
	StartsAt    int // seconds after t0
	EndsAt      int
}

func toSent(a *alert.Alert) sent {
	return sent{
		Labels:      a.Labels.String(),
		Annotations: a.Annotations.String(),
		StartsAt:    int(a.StartsAt.Sub(t0) / time.Second),
		EndsAt:      int(a.EndsAt.Sub(t0) / time.Second),
	}
}

type step struct {
	ts       int               // seconds after t0
	result   datasource.Vector // the query result
	queryErr error             // or the query fails
	wantErr  string            // the rule error, if any
	state    string            // the rule's alerts: "firing", "pending", "inactive", "" (none at all)
	sent     []sent            // what is sent at this step; nil: nothing
}

type scenario struct {
	rule        rules.Rule
	group       rules.Group
	interval    time.Duration
	resendDelay time.Duration
	limit       int
	external    labels.Labels
	steps       []step
}

func run(t *testing.T, sc scenario) *AlertingRule {
	t.Helper()
	if sc.rule.Alert == "" {
		sc.rule.Alert = "Test"
	}
	if sc.rule.Expr == "" {
		sc.rule.Expr = "up == 0"
	}
	if sc.interval == 0 {
		sc.interval = time.Minute
	}
	if sc.resendDelay == 0 {
		sc.resendDelay = time.Minute
	}
	r, err := NewAlertingRule(&sc.group, &sc.rule, RuleSettings{ExternalLabels: sc.external, ExternalURL: "http://alertd:9095"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sc.steps {
		q := func(_ context.Context, expr string, ts time.Time) (datasource.Vector, error) {
			if expr != sc.rule.Expr {
				return nil, nil // a query of a template
			}
			if !ts.Equal(at(st.ts)) {
				t.Fatalf("query at %v, want %v", ts, at(st.ts))
			}
			return st.result, st.queryErr
		}
		err := r.Eval(t.Context(), 0, at(st.ts), q, sc.limit)
		r.setStatus(err, at(st.ts), 0)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != st.wantErr {
			t.Fatalf("ts=%d: error %q, want %q", st.ts, gotErr, st.wantErr)
		}
		var got []sent
		if err == nil {
			for _, a := range r.sendAlerts(at(st.ts), sc.resendDelay, sc.interval, nil) {
				got = append(got, toSent(a))
			}
		}
		// The order of one evaluation's sends is unspecified, as in
		// Prometheus (a map).
		bySent := func(a, b sent) int { return strings.Compare(a.Labels, b.Labels) }
		want := slices.Clone(st.sent)
		slices.SortFunc(want, bySent)
		slices.SortFunc(got, bySent)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ts=%d: sent (-want +got):\n%s", st.ts, diff)
		}
		if s := ruleState(r); s != st.state {
			t.Errorf("ts=%d: state %q, want %q", st.ts, s, st.state)
		}
	}
	return r
}

// ruleState sums up the alerts of a rule: "" when it has none.
func ruleState(r *AlertingRule) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var states []string
	for _, a := range r.active {
		states = append(states, a.State.String())
	}
	return strings.Join(states, ",")
}

func TestAlertingRuleStateMachine(t *testing.T) {
	down := datasource.Vector{series(`up{instance="a",job="j"}`, 0)}
	lbl := `{alertname="Test", instance="a", job="j"}`
	errDS := errors.New("query failed: bad_data (HTTP 400): boom")
	tests := []struct {
		name string
		sc   scenario
	}{
		{
			// Spec §1.5 A: for 0, interval = resend = 1m: resent every 2m,
			// resolved sent at once, re-sent during the 15m retention,
			// deleted when ts-ResolvedAt > 15m.
			name: "for 0 with resend cadence and retention",
			sc: scenario{steps: func() []step {
				s := []step{
					{ts: 0, result: down, state: "firing", sent: []sent{{lbl, "{}", 0, 240}}},
					{ts: 60, result: down, state: "firing"},
					{ts: 120, result: down, state: "firing", sent: []sent{{lbl, "{}", 0, 360}}},
					{ts: 180, result: down, state: "firing"},
					{ts: 240, result: down, state: "firing", sent: []sent{{lbl, "{}", 0, 480}}},
					{ts: 300, result: down, state: "firing"},
					{ts: 360, state: "inactive", sent: []sent{{lbl, "{}", 0, 360}}},
					{ts: 420, state: "inactive"},
				}
				for ts := 480; ts <= 1260; ts += 60 {
					st := step{ts: ts, state: "inactive"}
					if (ts-360)%120 == 0 {
						st.sent = []sent{{lbl, "{}", 0, 360}}
					}
					s = append(s, st)
				}
				return append(s, step{ts: 1320, state: ""})
			}()},
		},
		{
			// Spec §1.5 B.
			name: "for and keep_firing_for",
			sc: scenario{
				rule: rules.Rule{For: 3 * time.Minute, KeepFiringFor: 2 * time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, result: down, state: "pending"},
					{ts: 120, result: down, state: "pending"},
					{ts: 180, result: down, state: "firing", sent: []sent{{lbl, "{}", 180, 420}}},
					{ts: 240, result: down, state: "firing"},
					{ts: 300, state: "firing", sent: []sent{{lbl, "{}", 180, 540}}},
					{ts: 360, result: down, state: "firing"},
					{ts: 420, result: down, state: "firing", sent: []sent{{lbl, "{}", 180, 660}}},
					{ts: 480, state: "firing"},
					{ts: 540, state: "firing", sent: []sent{{lbl, "{}", 180, 780}}},
					{ts: 600, state: "inactive", sent: []sent{{lbl, "{}", 180, 600}}},
				},
			},
		},
		{
			// keep_firing_for counts from the first evaluation without the
			// series: kff 3m, last seen at 12m: firing at 13, 14, 15m,
			// resolved at 16m.
			name: "keep_firing_for boundary",
			sc: scenario{
				rule: rules.Rule{KeepFiringFor: 3 * time.Minute},
				steps: []step{
					{ts: 720, result: down, state: "firing", sent: []sent{{lbl, "{}", 720, 960}}},
					{ts: 780, state: "firing"},
					{ts: 840, state: "firing", sent: []sent{{lbl, "{}", 720, 1080}}},
					{ts: 900, state: "firing"},
					{ts: 960, state: "inactive", sent: []sent{{lbl, "{}", 720, 960}}},
				},
			},
		},
		{
			// Spec §1.5 F: a failing query freezes the state and sends
			// nothing; the first good evaluation re-sends at once.
			name: "query errors freeze state",
			sc: scenario{
				rule: rules.Rule{For: 2 * time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, result: down, state: "pending"},
					{ts: 120, result: down, state: "firing", sent: []sent{{lbl, "{}", 120, 360}}},
					{ts: 180, queryErr: errDS, wantErr: errDS.Error(), state: "firing"},
					{ts: 240, queryErr: errDS, wantErr: errDS.Error(), state: "firing"},
					{ts: 300, queryErr: errDS, wantErr: errDS.Error(), state: "firing"},
					{ts: 480, result: down, state: "firing", sent: []sent{{lbl, "{}", 120, 720}}},
				},
			},
		},
		{
			name: "pending that disappears is never sent",
			sc: scenario{
				rule: rules.Rule{For: 5 * time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, state: ""},
					{ts: 120, result: down, state: "pending"},
				},
			},
		},
		{
			name: "a query error keeps a pending alert's activeAt",
			sc: scenario{
				rule: rules.Rule{For: 2 * time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, queryErr: errDS, wantErr: errDS.Error(), state: "pending"},
					{ts: 120, queryErr: errDS, wantErr: errDS.Error(), state: "pending"},
					{ts: 180, result: down, state: "firing", sent: []sent{{lbl, "{}", 180, 420}}},
				},
			},
		},
		{
			// for shorter than the interval fires on the next evaluation
			// (>=), not the same one.
			name: "for shorter than interval",
			sc: scenario{
				rule: rules.Rule{For: 30 * time.Second},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, result: down, state: "firing", sent: []sent{{lbl, "{}", 60, 300}}},
				},
			},
		},
		{
			name: "for equal to the elapsed time fires",
			sc: scenario{
				rule: rules.Rule{For: time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, result: down, state: "firing", sent: []sent{{lbl, "{}", 60, 300}}},
				},
			},
		},
		{
			// Spec §1.5 H: interval 15s, resend 1m: every 75s; EndsAt is
			// 4 × max(interval, resend) after the send.
			name: "resend cadence with a short interval",
			sc: scenario{
				interval: 15 * time.Second,
				steps: func() []step {
					var s []step
					for ts := 0; ts <= 150; ts += 15 {
						st := step{ts: ts, result: down, state: "firing"}
						if ts%75 == 0 {
							st.sent = []sent{{lbl, "{}", 0, ts + 240}}
						}
						s = append(s, st)
					}
					return s
				}(),
			},
		},
		{
			name: "resolved alert that comes back within retention is a new alert",
			sc: scenario{
				rule: rules.Rule{For: time.Minute},
				steps: []step{
					{ts: 0, result: down, state: "pending"},
					{ts: 60, result: down, state: "firing", sent: []sent{{lbl, "{}", 60, 300}}},
					{ts: 120, state: "inactive", sent: []sent{{lbl, "{}", 60, 120}}},
					{ts: 180, result: down, state: "pending"},
					{ts: 240, result: down, state: "firing", sent: []sent{{lbl, "{}", 240, 480}}},
				},
			},
		},
		{
			name: "resolved retention boundary is strictly greater than 15m",
			sc: scenario{
				resendDelay: time.Hour, // only the resolved send
				steps: []step{
					{ts: 0, result: down, state: "firing", sent: []sent{{lbl, "{}", 0, 14400}}},
					{ts: 60, state: "inactive", sent: []sent{{lbl, "{}", 0, 60}}},
					{ts: 960, state: "inactive"}, // exactly 15m after
					{ts: 961, state: ""},
				},
			},
		},
		{
			name: "duplicate labelset after dropping __name__",
			sc: scenario{
				rule: rules.Rule{Expr: `{__name__=~"a|b"} > 0`},
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`a{x="1"}`, 1)}, state: "firing", sent: []sent{{`{alertname="Test", x="1"}`, "{}", 0, 240}}},
					{ts: 60, result: datasource.Vector{series(`a{x="1"}`, 1), series(`b{x="1"}`, 1)}, wantErr: ErrDuplicateAlertLabelSet.Error(), state: "firing"},
					{ts: 120, result: datasource.Vector{series(`a{x="1"}`, 1)}, state: "firing", sent: []sent{{`{alertname="Test", x="1"}`, "{}", 0, 360}}},
				},
			},
		},
		{
			name: "duplicate labelset from a rule label",
			sc: scenario{
				rule: rules.Rule{Labels: map[string]string{"instance": "all"}},
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`up{instance="a"}`, 0), series(`up{instance="b"}`, 0)}, wantErr: ErrDuplicateAlertLabelSet.Error(), state: ""},
				},
			},
		},
		{
			name: "limit drops every alert without resolving",
			sc: scenario{
				limit: 2,
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`up{i="1"}`, 0), series(`up{i="2"}`, 0)}, state: "firing,firing", sent: []sent{{`{alertname="Test", i="1"}`, "{}", 0, 240}, {`{alertname="Test", i="2"}`, "{}", 0, 240}}},
					{ts: 60, result: datasource.Vector{series(`up{i="1"}`, 0), series(`up{i="2"}`, 0), series(`up{i="3"}`, 0)}, wantErr: "exceeded limit of 2 with 3 alerts", state: ""},
				},
			},
		},
		{
			name: "label precedence: series, group, rule, alertname",
			sc: scenario{
				group: rules.Group{Labels: map[string]string{"team": "group", "severity": "group", "job": "group"}},
				rule:  rules.Rule{Labels: map[string]string{"severity": "rule", "instance": `{{ if false }}x{{ end }}`, "alertname": "Other"}},
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`up{alertname="S",instance="a",job="j",team="s"}`, 0)}, state: "firing",
						sent: []sent{{`{alertname="Test", job="group", severity="rule", team="group"}`, "{}", 0, 240}}},
				},
			},
		},
		{
			name: "templates: $labels, $value and humanize",
			sc: scenario{
				rule: rules.Rule{
					Labels:      map[string]string{"where": "{{ $labels.instance }}"},
					Annotations: map[string]string{"raw": "{{ $value }}", "h": "{{ $value | humanize }}", "name": "{{ $labels.__name__ }}", "ext": "{{ $externalLabels.region }} {{ $externalURL }}"},
				},
				external: labels.FromStrings("region", "eu-1"),
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`up{instance="a"}`, 1234567.891)}, state: "firing",
						sent: []sent{{`{alertname="Test", instance="a", region="eu-1", where="a"}`, `{ext="eu-1 http://alertd:9095", h="1.235M", name="up", raw="1.234567891e+06"}`, 0, 240}}},
					{ts: 60, result: datasource.Vector{series(`up{instance="a"}`, 0)}, state: "firing"},
					{ts: 120, result: datasource.Vector{series(`up{instance="a"}`, 0)}, state: "firing",
						sent: []sent{{`{alertname="Test", instance="a", region="eu-1", where="a"}`, `{ext="eu-1 http://alertd:9095", h="0", name="up", raw="0"}`, 0, 360}}},
				},
			},
		},
		{
			name: "alert labels win over external labels",
			sc: scenario{
				external: labels.FromStrings("region", "eu-1", "cluster", "c"),
				steps: []step{
					{ts: 0, result: datasource.Vector{series(`up{region="us"}`, 0)}, state: "firing",
						sent: []sent{{`{alertname="Test", cluster="c", region="us"}`, "{}", 0, 240}}},
				},
			},
		},
		{
			name: "template error becomes the value, the rule does not fail",
			sc: scenario{
				rule: rules.Rule{Annotations: map[string]string{"s": `{{ first (query "x") }}`}},
				steps: []step{
					{ts: 0, result: down, state: "firing",
						sent: []sent{{lbl, `{s="<error expanding template: error executing template __alert_Test: template: __alert_Test:1:115: executing \"__alert_Test\" at <first (query \"x\")>: error calling first: first() called on vector with no elements>"}`, 0, 240}}},
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.sc) })
	}
}

func TestAlertingRuleAPIState(t *testing.T) {
	r := run(t, scenario{
		rule: rules.Rule{For: time.Minute, Annotations: map[string]string{"v": "{{ $value }}"}},
		steps: []step{
			{ts: 0, result: datasource.Vector{series(`up{i="1"}`, 2)}, state: "pending"},
		},
	})
	got := r.status()
	if got.State != "pending" || got.Health != HealthGood || len(got.Alerts) != 1 || got.Alerts[0].Value != 2 ||
		!got.Alerts[0].ActiveAt.Equal(t0) || got.Alerts[0].Annotations.Get("v") != "2" {
		t.Errorf("status: %+v", got)
	}
}

// TestAnnotationsUpdate checks that annotations follow the value while the
// labels, and so the alert, stay the same.
func TestAnnotationsUpdate(t *testing.T) {
	g := rules.Group{}
	rule := rules.Rule{Alert: "A", Expr: "x", Annotations: map[string]string{"a": "{{ $value }}", "b": "const", "c": "{{ $labels.i }}"}}
	r, err := NewAlertingRule(&g, &rule, RuleSettings{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range []float64{1, 1, 2, math.NaN(), math.Inf(1)} {
		q := func(context.Context, string, time.Time) (datasource.Vector, error) {
			return datasource.Vector{series(`x{i="q"}`, v)}, nil
		}
		if err := r.Eval(t.Context(), 0, at(i*60), q, 0); err != nil {
			t.Fatal(err)
		}
		st := r.status()
		want := fmt.Sprintf(`{a="%v", b="const", c="q"}`, v)
		if got := st.Alerts[0].Annotations.String(); got != want {
			t.Errorf("eval %d: annotations %s, want %s", i, got, want)
		}
	}
}
