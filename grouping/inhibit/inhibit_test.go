package inhibit

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v2"

	"github.com/alertd/alertd/alert"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// parseRules reads inhibit_rules as Alertmanager's configuration does.
func parseRules(t testing.TB, y string) []amcommoncfg.InhibitRule {
	t.Helper()
	var rules []amcommoncfg.InhibitRule
	if err := yaml.UnmarshalStrict([]byte(y), &rules); err != nil {
		t.Fatalf("parse rules: %v\n%s", err, y)
	}
	return rules
}

func newInhibitor(t testing.TB, rulesYAML string, c *clock) *Inhibitor {
	t.Helper()
	ih, err := New(parseRules(t, rulesYAML), Options{Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ih
}

// firing returns an alert with labels ls (name, value pairs) that ends at
// endsAt.
func firing(endsAt time.Time, ls ...string) *alert.Alert {
	return &alert.Alert{Labels: labels.FromStrings(ls...), StartsAt: t0.Add(-time.Hour), EndsAt: endsAt}
}

func hexOf(a *alert.Alert) string { return hex16(alert.Fingerprint(a.Labels)) }

// TestMutes checks single Mutes answers: sources are Put at t0, Mutes
// is asked at t0.
func TestMutes(t *testing.T) {
	later := t0.Add(time.Hour)
	const basic = `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
`
	tests := []struct {
		name    string
		rules   string
		sources []*alert.Alert
		target  []string // label pairs
		want    int      // index of the inhibiting source, -1 for none
	}{
		{
			name:    "matchers: both sides match",
			rules:   basic,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name:    "matchers: target does not match",
			rules:   basic,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Other"},
			want:    -1,
		},
		{
			name:    "matchers: no source",
			rules:   basic,
			sources: []*alert.Alert{firing(later, "alertname", "NotSrc")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name: "matchers: regexp is anchored",
			rules: `
- source_matchers: ['alertname=~"Sr"']
  target_matchers: ['alertname=~"T.*"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name: "matchers: regexp, brace syntax, several per line",
			rules: `
- source_matchers: ['{alertname=~"S.c", severity="critical"}']
  target_matchers: ['{alertname=~"T.*|X"}']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "severity", "critical")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name: "matchers: not equal and not regexp",
			rules: `
- source_matchers: ['alertname!="Other"', 'severity!~"info|warning"']
  target_matchers: ['alertname!="Src"', 'team!~"b.*"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "severity", "critical")},
			target:  []string{"alertname", "Tgt", "team", "a"},
			want:    0,
		},
		{
			name: "matchers: not regexp excludes",
			rules: `
- source_matchers: ['alertname="Src"']
  target_matchers: ['team!~"b.*"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt", "team", "backend"},
			want:    -1,
		},
		{
			name: "matchers: equality with empty value matches a missing label",
			rules: `
- source_matchers: ['alertname="Src"', 'team=""']
  target_matchers: ['alertname="Tgt"', 'team=""']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name: "matchers: no target matchers match everything",
			rules: `
- source_matchers: ['alertname="Src"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Anything"},
			want:    0,
		},
		{
			name: "deprecated source_match and target_match",
			rules: `
- source_match: {alertname: Src, severity: critical}
  target_match: {alertname: Tgt}
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "severity", "critical")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name: "deprecated source_match requires all",
			rules: `
- source_match: {alertname: Src, severity: critical}
  target_match: {alertname: Tgt}
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "severity", "warning")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name: "deprecated source_match_re and target_match_re",
			rules: `
- source_match_re: {alertname: 'S.*'}
  target_match_re: {alertname: 'T.t|X'}
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name: "deprecated target_match_re is anchored",
			rules: `
- source_match_re: {alertname: 'S.*'}
  target_match_re: {alertname: 'T'}
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name: "deprecated and new matchers combine",
			rules: `
- source_match: {alertname: Src}
  source_matchers: ['severity="critical"']
  target_match_re: {alertname: 'T.*'}
  target_matchers: ['team="a"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "severity", "critical")},
			target:  []string{"alertname", "Tgt", "team", "b"},
			want:    -1,
		},
		{
			name: "equal: present and equal",
			rules: basic + `  equal: [cluster, instance]
`,
			sources: []*alert.Alert{
				firing(later, "alertname", "Src", "cluster", "b", "instance", "i"),
				firing(later, "alertname", "Src", "cluster", "a", "instance", "i"),
			},
			target: []string{"alertname", "Tgt", "cluster", "a", "instance", "i"},
			want:   1,
		},
		{
			name: "equal: different",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "cluster", "b")},
			target:  []string{"alertname", "Tgt", "cluster", "a"},
			want:    -1,
		},
		{
			name: "equal: one of several different",
			rules: basic + `  equal: [cluster, instance]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "cluster", "a", "instance", "j")},
			target:  []string{"alertname", "Tgt", "cluster", "a", "instance", "i"},
			want:    -1,
		},
		{
			name: "equal: missing on the target",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "cluster", "a")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name: "equal: missing on the source",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt", "cluster", "a"},
			want:    -1,
		},
		{
			name: "equal: missing on both sides applies",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name: "equal: other labels do not matter",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "cluster", "a", "instance", "x")},
			target:  []string{"alertname", "Tgt", "cluster", "a", "instance", "y"},
			want:    0,
		},
		{
			name:    "resolved source does not inhibit",
			rules:   basic,
			sources: []*alert.Alert{firing(t0.Add(-time.Second), "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name:    "source ending now is resolved",
			rules:   basic,
			sources: []*alert.Alert{firing(t0, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    -1,
		},
		{
			name:    "source without EndsAt fires",
			rules:   basic,
			sources: []*alert.Alert{firing(time.Time{}, "alertname", "Src")},
			target:  []string{"alertname", "Tgt"},
			want:    0,
		},
		{
			name:  "same equal labels: the latest EndsAt is reported",
			rules: basic,
			sources: []*alert.Alert{
				firing(t0.Add(time.Minute), "alertname", "Src", "instance", "1"),
				firing(t0.Add(time.Hour), "alertname", "Src", "instance", "2"),
				firing(t0.Add(time.Second), "alertname", "Src", "instance", "3"),
			},
			target: []string{"alertname", "Tgt"},
			want:   1,
		},
		{
			name:  "same equal labels: a resolved one does not hide a firing one",
			rules: basic,
			sources: []*alert.Alert{
				firing(t0.Add(-time.Minute), "alertname", "Src", "instance", "1"),
				firing(t0.Add(time.Minute), "alertname", "Src", "instance", "2"),
			},
			target: []string{"alertname", "Tgt"},
			want:   1,
		},
		{
			name: "self-inhibition: not by a source matching both sides",
			rules: `
- source_matchers: ['s="1"']
  target_matchers: ['t="1"']
`,
			sources: []*alert.Alert{firing(later, "s", "1", "t", "1", "x", "other")},
			target:  []string{"s", "1", "t", "1"},
			want:    -1,
		},
		{
			name: "self-inhibition: the alert itself does not inhibit itself",
			rules: `
- source_matchers: ['s="1"']
  target_matchers: ['t="1"']
`,
			sources: []*alert.Alert{firing(later, "s", "1", "t", "1")},
			target:  []string{"s", "1", "t", "1"},
			want:    -1,
		},
		{
			name: "self-inhibition: by a source matching the source side only",
			rules: `
- source_matchers: ['s="1"']
  target_matchers: ['t="1"']
`,
			sources: []*alert.Alert{
				firing(t0.Add(2*time.Hour), "s", "1", "t", "1", "x", "other"),
				firing(later, "s", "1"),
			},
			target: []string{"s", "1", "t", "1"},
			want:   1,
		},
		{
			name: "self-inhibition: a target-only alert is inhibited by a two-sided source",
			rules: `
- source_matchers: ['s="1"']
  target_matchers: ['t="1"']
`,
			sources: []*alert.Alert{firing(later, "s", "1", "t", "1")},
			target:  []string{"t", "1"},
			want:    0,
		},
		{
			name: "rule order: the first rule that inhibits decides",
			rules: `
- source_matchers: ['alertname="Src1"']
  target_matchers: ['severity="warning"']
- source_matchers: ['alertname="Src2"']
  target_matchers: ['alertname="Tgt"']
`,
			sources: []*alert.Alert{
				firing(t0.Add(2*time.Hour), "alertname", "Src2"),
				firing(later, "alertname", "Src1"),
			},
			target: []string{"alertname", "Tgt", "severity", "warning"},
			want:   1,
		},
		{
			name: "rule order: a matching rule without a source falls through",
			rules: `
- source_matchers: ['alertname="Src1"']
  target_matchers: ['alertname="Tgt"']
  equal: [cluster]
- source_matchers: ['alertname="Src2"']
  target_matchers: ['severity="warning"']
`,
			sources: []*alert.Alert{
				firing(later, "alertname", "Src1", "cluster", "b"),
				firing(later, "alertname", "Src2"),
			},
			target: []string{"alertname", "Tgt", "cluster", "a", "severity", "warning"},
			want:   1,
		},
		{
			name: "rule order: indexed and unindexed rules interleave",
			rules: `
- source_matchers: ['alertname="Src1"']
  target_matchers: ['alertname=~"Tg."']
- source_matchers: ['alertname="Src2"']
  target_matchers: ['alertname="Tgt"']
`,
			sources: []*alert.Alert{
				firing(later, "alertname", "Src2"),
				firing(later, "alertname", "Src1"),
			},
			target: []string{"alertname", "Tgt"},
			want:   1,
		},
		{
			name: "silenced source still inhibits: the inhibitor does not know silences",
			rules: basic + `  equal: [cluster]
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src", "cluster", "a")},
			target:  []string{"alertname", "Tgt", "cluster", "a"},
			want:    0,
		},
		{
			name: "a source in two rules",
			rules: `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt1"']
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt2"']
`,
			sources: []*alert.Alert{firing(later, "alertname", "Src")},
			target:  []string{"alertname", "Tgt2"},
			want:    0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ih := newInhibitor(t, tt.rules, &clock{now: t0})
			ih.Put(tt.sources...)
			var want []string
			if tt.want >= 0 {
				want = []string{hexOf(tt.sources[tt.want])}
			}
			got := ih.Mutes(labels.FromStrings(tt.target...))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Mutes(%v) (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestMutesOverTime(t *testing.T) {
	const rules = `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
  equal: [cluster]
`
	tgt := labels.FromStrings("alertname", "Tgt", "cluster", "a")
	c := &clock{now: t0}
	ih := newInhibitor(t, rules, c)

	a := firing(t0.Add(4*time.Minute), "alertname", "Src", "cluster", "a", "instance", "1")
	b := firing(t0.Add(2*time.Minute), "alertname", "Src", "cluster", "a", "instance", "2")
	steps := []struct {
		name string
		at   time.Duration
		put  []*alert.Alert
		want []string
	}{
		{name: "nothing yet", at: 0, want: nil},
		{name: "both firing: latest EndsAt", at: 0, put: []*alert.Alert{a, b}, want: []string{hexOf(a)}},
		{name: "a resolved by an update: b still inhibits", at: time.Minute,
			put:  []*alert.Alert{firing(t0.Add(time.Minute), "alertname", "Src", "cluster", "a", "instance", "1")},
			want: []string{hexOf(b)}},
		{name: "b resolves at its EndsAt", at: 2 * time.Minute, want: nil},
		{name: "a fires again", at: 3 * time.Minute,
			put:  []*alert.Alert{a},
			want: []string{hexOf(a)}},
		{name: "just before a ends", at: 4*time.Minute - time.Nanosecond, want: []string{hexOf(a)}},
		{name: "a ends without an update", at: 4 * time.Minute, want: nil},
	}
	for _, s := range steps {
		c.Set(t0.Add(s.at))
		ih.Put(s.put...)
		if diff := cmp.Diff(s.want, ih.Mutes(tgt)); diff != "" {
			t.Errorf("%s: Mutes (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestGC(t *testing.T) {
	const rules = `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
  equal: [cluster]
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt2"']
`
	c := &clock{now: t0}
	ih := newInhibitor(t, rules, c)
	ih.Put(
		firing(t0.Add(time.Minute), "alertname", "Src", "cluster", "a"),
		firing(t0.Add(time.Minute), "alertname", "Src", "cluster", "a", "instance", "2"),
		firing(t0.Add(time.Hour), "alertname", "Src", "cluster", "b"),
		firing(t0.Add(-time.Minute), "alertname", "Src", "cluster", "c"), // resolved: never stored
		firing(t0.Add(time.Hour), "alertname", "Other"),                  // no rule's source
	)
	if got := stored(ih); got != 6 {
		t.Fatalf("stored sources = %d, want 6", got)
	}
	if n := ih.GC(); n != 0 {
		t.Errorf("GC before anything resolved = %d, want 0", n)
	}

	c.Set(t0.Add(time.Minute))
	// Two alerts in two rules each.
	if n := ih.GC(); n != 4 {
		t.Errorf("GC = %d, want 4", n)
	}
	if n := ih.GC(); n != 0 {
		t.Errorf("second GC = %d, want 0", n)
	}
	if got := stored(ih); got != 2 {
		t.Errorf("stored sources after GC = %d, want 2", got)
	}
	checkLive(t, ih)
	want := []string{hexOf(firing(time.Time{}, "alertname", "Src", "cluster", "b"))}
	if diff := cmp.Diff(want, ih.Mutes(labels.FromStrings("alertname", "Tgt", "cluster", "b"))); diff != "" {
		t.Errorf("Mutes after GC (-want +got):\n%s", diff)
	}
	if got := ih.Mutes(labels.FromStrings("alertname", "Tgt", "cluster", "a")); got != nil {
		t.Errorf("Mutes for a GCed source = %v, want nil", got)
	}

	// An update resolving an alert forgets it at once.
	ih.Put(firing(t0, "alertname", "Src", "cluster", "b"))
	if got := stored(ih); got != 0 {
		t.Errorf("stored sources after resolving update = %d, want 0", got)
	}
	checkLive(t, ih)
}

// stored counts the sources the rules hold.
func stored(ih *Inhibitor) int {
	ih.mu.RLock()
	defer ih.mu.RUnlock()
	n := 0
	for _, r := range ih.rules {
		for _, b := range r.sources {
			n += len(b)
		}
	}
	return n
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Options.Now defaults to time.Now, the bubble's fake clock.
		ih, err := New(parseRules(t, `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
`), Options{})
		if err != nil {
			t.Fatal(err)
		}
		ih.Put(firing(time.Now().Add(time.Minute), "alertname", "Src"))

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- ih.Run(ctx) }()

		<-time.After(GCInterval - time.Second)
		synctest.Wait()
		if got := stored(ih); got != 1 {
			t.Errorf("stored before the first GC = %d, want 1", got)
		}
		<-time.After(time.Second)
		synctest.Wait()
		if got := stored(ih); got != 0 {
			t.Errorf("stored after the first GC = %d, want 0", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		rule amcommoncfg.InhibitRule
	}{
		{name: "source_match_re without regexp", rule: amcommoncfg.InhibitRule{
			SourceMatchRE: amcommoncfg.MatchRegexps{"alertname": {}},
		}},
		{name: "target_match_re without regexp", rule: amcommoncfg.InhibitRule{
			TargetMatchRE: amcommoncfg.MatchRegexps{"alertname": {}},
		}},
		{name: "nil target matcher", rule: amcommoncfg.InhibitRule{
			TargetMatchers: amcommoncfg.Matchers{nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New([]amcommoncfg.InhibitRule{tt.rule}, Options{}); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestZeroOptions(t *testing.T) {
	ih, err := New(parseRules(t, `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := firing(time.Now().Add(time.Hour), "alertname", "Src")
	ih.Put(src)
	if diff := cmp.Diff([]string{hexOf(src)}, ih.Mutes(labels.FromStrings("alertname", "Tgt"))); diff != "" {
		t.Errorf("Mutes (-want +got):\n%s", diff)
	}
	if n := ih.GC(); n != 0 {
		t.Errorf("GC = %d, want 0", n)
	}
}

func TestNoRules(t *testing.T) {
	ih, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ih.Put(firing(time.Time{}, "alertname", "Src"))
	if got := ih.Mutes(labels.FromStrings("alertname", "Tgt")); got != nil {
		t.Errorf("Mutes = %v, want nil", got)
	}
}

func TestConcurrent(t *testing.T) {
	const rules = `
- source_matchers: ['alertname="Src"']
  target_matchers: ['alertname="Tgt"']
  equal: [instance]
- source_matchers: ['severity="critical"']
  target_matchers: ['severity=~"warning|info"']
  equal: [instance]
`
	c := &clock{now: t0}
	ih := newInhibitor(t, rules, c)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				inst := string(rune('a' + (i+w)%5))
				ends := t0.Add(time.Duration(i%7-2) * time.Minute)
				ih.Put(
					firing(ends, "alertname", "Src", "instance", inst),
					firing(ends, "alertname", "Other", "severity", "critical", "instance", inst),
				)
			}
		})
		wg.Go(func() {
			for i := range 200 {
				inst := string(rune('a' + (i+w)%5))
				ih.Mutes(labels.FromStrings("alertname", "Tgt", "instance", inst))
				ih.Mutes(labels.FromStrings("alertname", "X", "severity", "info", "instance", inst))
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			c.Set(t0.Add(time.Duration(i) * time.Second))
			ih.GC()
		}
	})
	wg.Wait()
	// The last Put of each alert decides; at the end all are resolved or not
	// consistently with the clock.
	ih.GC()
	checkLive(t, ih)
	now := c.Now()
	ih.mu.RLock()
	defer ih.mu.RUnlock()
	for _, r := range ih.rules {
		for _, b := range r.sources {
			for _, s := range b {
				if s.resolved(now) {
					t.Errorf("resolved source %v left after GC", s.labels)
				}
			}
		}
	}
}
