package unittest

import (
	"strings"
	"testing"
	"time"
)

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings, in order
	}{
		{
			name:    "unknown top-level key",
			content: "rule_files: []\ntest:\n  - name: x\n",
			want:    []string{"t.yml:2: field test not found at the top level"},
		},
		{
			name: "unknown key in a test group",
			content: `tests:
  - interval: 1m
    alert_rule_tests: []
`,
			want: []string{"t.yml:3: field alert_rule_tests not found in a tests item"},
		},
		{
			name: "unknown key in exp_alerts, and in exp_samples",
			content: `tests:
  - alert_rule_test:
      - alertname: A
        exp_alerts:
          - labels: {a: b}
    promql_expr_test:
      - expr: x
        exp_samples:
          - label: x
`,
			want: []string{"t.yml:5: field labels not found in an exp_alerts item", "t.yml:9: field label not found in an exp_samples item"},
		},
		{
			name:    "bad duration",
			content: "evaluation_interval: 1 minute\n",
			want:    []string{`t.yml:1: unknown unit " minute" in duration "1 minute"`},
		},
		{
			name:    "not YAML",
			content: "tests: [\n",
			want:    []string{"t.yml:"},
		},
		{
			name:    "group_eval_order repeats a group",
			content: "group_eval_order:\n  - a\n  - b\n  - a\n",
			want:    []string{"t.yml:4: group name repeated in evaluation order: a"},
		},
		{
			name:    "bad start_timestamp",
			content: "tests:\n  - start_timestamp: yesterday\n",
			want:    []string{`t.yml:2: cannot parse "yesterday" to a valid timestamp`},
		},
		{
			name: "exp_notifications without config_file",
			content: `tests:
  - alert_rule_test:
      - alertname: A
        exp_notifications:
          - receivers: [x]
`,
			want: []string{"t.yml:5: exp_notifications needs config_file"},
		},
		{
			name: "exp_notifications asserting nothing",
			content: `config_file: alertd.yml
tests:
  - alert_rule_test:
      - alertname: A
        exp_notifications:
          - exp_labels: {a: b}
`,
			want: []string{"t.yml:6: exp_notifications item asserts nothing"},
		},
		{
			name: "unknown slack field",
			content: `config_file: alertd.yml
tests:
  - alert_rule_test:
      - alertname: A
        exp_notifications:
          - slack: {subject: x}
`,
			want: []string{"t.yml:6: field subject not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFile("t.yml", []byte(tt.content))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestParseFileAlertdKeys(t *testing.T) {
	pf, err := parseFile("t.yml", []byte(`config_file: alertd.yml
tests:
  - alert_rule_test:
      - alertname: A
      - alertname: B
        exp_pending_alerts:
      - alertname: C
        exp_pending_alerts: []
      - alertname: D
        exp_pending_alerts:
          - exp_labels: {a: b}
        exp_notifications:
          - receivers: []
          - webhook: {b: "2", a: "1"}
            pagerduty: {summary: s}
            email: {subject: sub, html: h, text: t}
            slack: {title: ti}
`))
	if err != nil {
		t.Fatal(err)
	}
	at := pf.Tests[0].AlertRuleTests
	for i, want := range []int{-1, -1, 0, 1} { // -1: not asserted
		got := len(at[i].ExpPendingAlerts)
		if at[i].ExpPendingAlerts == nil {
			got = -1
		}
		if got != want {
			t.Errorf("%s: exp_pending_alerts %v, want %d alerts (-1: not asserted)", at[i].Alertname, at[i].ExpPendingAlerts, want)
		}
	}
	ns := at[3].ExpNotifications
	if ns[0].Receivers == nil || len(ns[0].Receivers) != 0 {
		t.Errorf("receivers: [] read as %#v, want an empty assertion", ns[0].Receivers)
	}
	var got []string
	for _, c := range ns[1].checks() {
		got = append(got, c.integration+"."+c.field+"="+c.want)
	}
	want := "slack.title=ti email.subject=sub email.html=h email.text=t pagerduty.summary=s webhook.a=1 webhook.b=2"
	if strings.Join(got, " ") != want {
		t.Errorf("checks %q, want %q", strings.Join(got, " "), want)
	}
}

func TestStartTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1609459200", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1609459200.5", time.Date(2021, 1, 1, 0, 0, 0, 5e8, time.UTC)},
		{"'2021-01-01T00:00:00Z'", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"'2021-01-01T01:00:00+01:00'", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		pf, err := parseFile("t.yml", []byte("tests:\n  - start_timestamp: "+tt.in+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := pf.Tests[0].StartTimestamp.Time; !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPositions(t *testing.T) {
	p := newPositions([]byte("a:\n  - x: 1\n  - y:\n      - 2\n"))
	for path, want := range map[string]string{
		"a":       "f:1",
		"a.0":     "f:2",
		"a.1.y":   "f:3",
		"a.1.y.0": "f:4",
		"nope":    "f",
	} {
		parts := []any{}
		for _, s := range strings.Split(path, ".") {
			parts = append(parts, s)
		}
		if got := p.at("f", parts...); got != want {
			t.Errorf("at(%s) = %s, want %s", path, got, want)
		}
	}
}
