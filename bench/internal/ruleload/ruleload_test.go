package ruleload

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/alertd/alertd/internal/testenv"
)

func TestRuleFile(t *testing.T) {
	l := Load{Rules: 5, Series: 2, Groups: 2, Interval: 5 * time.Second}
	var groups struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(l.RuleFile()), &groups); err != nil {
		t.Fatalf("the rule file does not parse: %v", err)
	}
	var names []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
		}
	}
	if len(groups.Groups) != 2 || strings.Join(names, ",") != "BenchAlert0,BenchAlert1,BenchAlert2,BenchAlert3,BenchAlert4" {
		t.Errorf("%d groups with rules %v; want 2 with BenchAlert0-4", len(groups.Groups), names)
	}
	if len(l.Values()) != l.Alerts() || l.Alerts() != 10 {
		t.Errorf("%d series, %d alerts; want 10 of each", len(l.Values()), l.Alerts())
	}
}

func TestRuleFilePromtool(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	path := filepath.Join(t.TempDir(), "rules.yml")
	l := Load{Rules: 30, Series: 2, Groups: 4, Interval: 5 * time.Second}
	if err := os.WriteFile(path, []byte(l.RuleFile()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: 30 rules found") {
		t.Errorf("promtool check rules: %s", out)
	}
}

func TestExposition(t *testing.T) {
	l := Load{Rules: 2, Series: 2}
	want := `# TYPE bench_metric gauge
bench_metric{instance="host-0:9100",job="bench",rule="r0"} 1
bench_metric{instance="host-1:9100",job="bench",rule="r0"} 2
bench_metric{instance="host-0:9100",job="bench",rule="r1"} 1
bench_metric{instance="host-1:9100",job="bench",rule="r1"} 2
`
	if got := string(l.Exposition()); got != want {
		t.Errorf("Exposition() =\n%s\nwant\n%s", got, want)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(Load{Rules: 3, Series: 4}.Exposition())))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(families["bench_metric"].GetMetric()); n != 12 {
		t.Errorf("%d series parsed, want 12", n)
	}
}

func TestCheck(t *testing.T) {
	l := Load{Rules: 2, Series: 2}
	all := func() []Alert {
		return []Alert{
			{"BenchAlert0", "host-0:9100", "firing"}, {"BenchAlert0", "host-1:9100", "firing"},
			{"BenchAlert1", "host-0:9100", "firing"}, {"BenchAlert1", "host-1:9100", "firing"},
		}
	}
	for _, tc := range []struct {
		name    string
		alerts  func() []Alert
		wantErr string
	}{
		{"exact", all, ""},
		{"missing", func() []Alert { return all()[1:] }, `1 missing, 0 unexpected, 0 not firing, 0 listed twice (e.g. BenchAlert0{instance="host-0:9100"} missing)`},
		{"duplicate", func() []Alert { return append(all(), all()[0]) }, "1 listed twice"},
		{"pending", func() []Alert { a := all(); a[3].State = "pending"; return a }, `1 not firing`},
		{"extra rule", func() []Alert { return append(all(), Alert{"BenchAlert2", "host-0:9100", "firing"}) }, "1 unexpected"},
		{"other alert", func() []Alert { return append(all(), Alert{"Watchdog", "", "firing"}) }, "1 unexpected"},
		{"bad instance", func() []Alert { return append(all(), Alert{"BenchAlert0", "host-01:9100", "firing"}) }, "1 unexpected"},
		{"none", func() []Alert { return nil }, "0 alerts, want 4 firing: 4 missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Check(tc.alerts(), "firing")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Check() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckFiring(t *testing.T) {
	l := Load{Rules: 2, Series: 50}
	for _, tc := range []struct {
		name    string
		firing  map[string]float64
		wantErr string
	}{
		{"exact", map[string]float64{"BenchAlert0": 50, "BenchAlert1": 50}, ""},
		{"short", map[string]float64{"BenchAlert0": 50, "BenchAlert1": 49}, "1 rules not firing 50 alerts each (e.g. BenchAlert1 has 49)"},
		{"missing rule", map[string]float64{"BenchAlert0": 50}, "BenchAlert1 has 0"},
		{"extra rule", map[string]float64{"BenchAlert0": 50, "BenchAlert1": 50, "BenchAlert2": 0}, "unexpected rule BenchAlert2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := l.CheckFiring(tc.firing)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("CheckFiring() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
