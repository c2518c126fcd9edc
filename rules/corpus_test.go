package rules

import (
	"path/filepath"
	"testing"
)

// TestCorpusLoads loads the 112 community rule files of
// testdata/corpus/awesome-prometheus-alerts, which all pass promtool.
func TestCorpusLoads(t *testing.T) {
	files, err := Files("", []string{filepath.Join("..", "testdata", "corpus", "awesome-prometheus-alerts", "*.yml")})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 112 {
		t.Fatalf("found %d corpus files, want 112", len(files))
	}
	groups, err := LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("%s: group %q: unexpected recording rule %q", g.File, g.Name, r.Record)
			}
			alerts++
		}
	}
	if alerts != 954 {
		t.Errorf("loaded %d alerting rules, want 954", alerts)
	}
}
