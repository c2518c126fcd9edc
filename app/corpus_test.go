package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// TestCorpusAgainstPrometheus loads the 112 community rule files (954
// alerting rules) and evaluates every rule against a real Prometheus: every
// rule must be healthy, as it is in Prometheus.
func TestCorpusAgainstPrometheus(t *testing.T) {
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{})
	corpus, err := filepath.Abs(filepath.Join("..", "testdata", "corpus", "awesome-prometheus-alerts"))
	if err != nil {
		t.Fatal(err)
	}
	_, base := startAlertd(t, t.TempDir(), fmt.Sprintf(`global:
  evaluation_interval: 3s
datasource: {url: %s, timeout: 20s}
rule_files: [%q]
`, prom.URL, filepath.Join(corpus, "*.yml")))

	var groups []apiGroup
	err = eventually(t.Context(), 30*time.Second, func(ctx context.Context) error {
		var err error
		if groups, err = ruleGroups(ctx, base); err != nil {
			return err
		}
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.LastEval.IsZero() {
					return fmt.Errorf("%s: rule %s not evaluated yet", g.File, r.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, rules, bad := map[string]bool{}, 0, 0
	for _, g := range groups {
		files[g.File] = true
		for _, r := range g.Rules {
			rules++
			if r.Type != "alerting" || r.Health != "ok" {
				bad++
				t.Errorf("%s: group %q, rule %q: type %s, health %q, lastError %q", filepath.Base(g.File), g.Name, r.Name, r.Type, r.Health, r.LastError)
			}
		}
	}
	if len(files) != 112 || rules != 954 {
		t.Errorf("evaluated %d rules of %d files, want 954 of 112", rules, len(files))
	}
	t.Logf("%d rules of %d files evaluated, %d unhealthy", rules, len(files), bad)
}
