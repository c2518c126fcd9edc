package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	yamlv3 "go.yaml.in/yaml/v3"
)

// FuzzLoadRouting fuzzes the routing half of alertd.yml, which FuzzLoad's
// seeds do not reach: an alertmanager.yml (fuzzed) with alertd's own keys
// added before it, after it, or inside its global block. Load must accept
// it exactly when Alertmanager's config.Load accepts the alertmanager.yml
// alone, with the same configuration, and then config.original
// (AlertmanagerString, what amtool parses) must load in Alertmanager too.
func FuzzLoadRouting(f *testing.F) {
	for _, s := range []string{
		"route: {receiver: r}\nreceivers: [{name: r}]\n",
		"global:\n  resolve_timeout: 2m\nroute:\n  receiver: team\n  group_by: [alertname, cluster]\n  routes:\n  - matchers: ['severity=\"page\"']\n    receiver: pager\n    continue: true\nreceivers:\n- name: team\n  webhook_configs: [{url: \"http://hooks.example.org/secret-token\"}]\n- name: pager\n",
		"route:\n  receiver: r\n  routes:\n  - match_re: {service: 'a|b'}\n    mute_time_intervals: [nights]\nreceivers:\n- name: r\n  slack_configs: [{api_url: 'https://hooks.slack.com/x', channel: '#a'}]\ntime_intervals:\n- name: nights\n  time_intervals: [{times: [{start_time: '22:00', end_time: '24:00'}]}]\n",
		"global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: a@b.c\n  smtp_auth_password: hunter2\nroute:\n  receiver: mail\nreceivers:\n- name: mail\n  email_configs: [{to: x@y.z}]\ninhibit_rules:\n- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"warning\"]\n  equal: [alertname]\n",
		"# comment\nroute:\n  receiver: pd\nreceivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: secret\n    details: {a: '{{ .Status }}'}\ntemplates: ['/nonexistent/*.tmpl']\n",
		"route:\n  receiver: r\n  routes:\n  - matchers: ['a=~\"(\"']\nreceivers: [{name: r}]\n",
		"route:\n  receiver: nobody\nreceivers: [{name: r}]\n",
		"global:\n  http_config:\n    follow_redirects: true\nroute:\r\n  receiver: r\r\nreceivers:\r\n- name: r\r\n",
		"inhibit_rules: [{source_match: {a: b}}]\n",
		"route: &r {receiver: r}\nreceivers: [{name: r}]\nx: *r\n",
	} {
		for where := range uint8(3) {
			f.Add([]byte(s), where)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, where uint8) {
		am := string(b)
		after, indent, ok := plainAlertmanagerYAML(am)
		if !ok {
			t.Skip()
		}
		var in string
		const own = "datasource:\n  url: http://a:1\nrule_files: []\n"
		switch where % 3 {
		case 0:
			in = own + am
		case 1:
			in = am + "\n" + own
		default:
			if after == 0 {
				t.Skip()
			}
			// Alertd's global key as the first of Alertmanager's.
			line := strings.Repeat(" ", indent) + "evaluation_interval: 30s"
			in = strings.Join(slices.Insert(strings.Split(am, "\n"), after, line), "\n") + "\n" + own
		}

		want, wantErr := alertmanagerLoad(am)
		c, err := Load([]byte(in), "")
		if wantErr != nil {
			if err == nil {
				t.Fatalf("Load accepts what Alertmanager rejects (%v):\n%s", wantErr, in)
			}
			return
		}
		if err != nil {
			t.Fatalf("Load: %v\nfor what Alertmanager accepts:\n%s", err, in)
		}
		if c.Alertmanager == nil {
			t.Fatalf("no routing loaded from:\n%s", in)
		}
		if got, want := c.Alertmanager.String(), want.String(); got != want {
			t.Fatalf("routing of\n%s\nalertd:\n%s\nAlertmanager:\n%s", in, got, want)
		}
		if where%3 == 2 && time.Duration(c.Global.EvaluationInterval) != 30*time.Second {
			t.Fatalf("evaluation_interval %v from\n%s", c.Global.EvaluationInterval, in)
		}
		if _, err := alertmanagerLoad(c.AlertmanagerString()); err != nil {
			t.Fatalf("config.original does not load in Alertmanager: %v\n%s", err, c.AlertmanagerString())
		}
	})
}

// alertmanagerLoad is Alertmanager's config.Load, a panic of which counts
// as a rejection.
func alertmanagerLoad(s string) (c *amconfig.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return amconfig.Load(s)
}

// plainAlertmanagerYAML reports whether s is a single YAML document whose
// root is a block mapping at column 1, with routing (one of Alertmanager's
// keys, or Alertmanager's keys in global) and none of alertd's keys, so
// that alertd's keys can be added before or after it without changing it.
// If global is a block mapping, after is the line of its key and indent
// the indentation of its keys, to add alertd's global keys there; else
// after is 0.
//
// Alertmanager 0.34's tracing and event_recorder keys are left out: alertd
// rejects them as unknown keys (see docs/fuzzing.md).
func plainAlertmanagerYAML(s string) (after, indent int, ok bool) {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...") || strings.HasPrefix(l, "%") {
			return 0, 0, false
		}
	}
	// A byte order mark, and line breaks that YAML counts but "\n" does
	// not split (a lone "\r", NEL, LS, PS), which alertd's line-based
	// blanking does not expect either.
	if strings.ContainsAny(strings.ReplaceAll(s, "\r\n", "\n"), "\uFEFF\r\u0085\u2028\u2029") {
		return 0, 0, false
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal([]byte(s), &doc); err != nil || len(doc.Content) != 1 {
		return 0, 0, false
	}
	root := doc.Content[0]
	if root.Kind != yamlv3.MappingNode || root.Style&yamlv3.FlowStyle != 0 || root.Column != 1 || len(root.Content) == 0 {
		return 0, 0, false
	}
	// Only comments before the first key: no tag or anchor of the root.
	for _, l := range strings.Split(s, "\n")[:root.Content[0].Line-1] {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return 0, 0, false
		}
	}
	routing := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case slices.Contains(alertdKeys, k.Value), k.Value == "tracing", k.Value == "event_recorder":
			return 0, 0, false
		case slices.Contains(alertmanagerKeys, k.Value):
			routing = true
		case k.Value == "global" && v.Kind == yamlv3.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				if slices.Contains(alertdGlobalKeys, v.Content[j].Value) {
					return 0, 0, false
				}
				routing = true
			}
			if v.Style&yamlv3.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Line > k.Line {
				after, indent = k.Line, v.Content[0].Column-1
			}
		}
	}
	return after, indent, routing
}
