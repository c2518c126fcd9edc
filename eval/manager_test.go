package eval_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

// parseGroups parses rule files given as name → content, in name order.
func parseGroups(t *testing.T, files map[string]string) []*rules.Group {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []*rules.Group
	for _, n := range names {
		gs, err := rules.Parse(n, []byte(files[n]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, gs...)
	}
	return out
}

// vectorQuery is a QueryFunc answering from a map of expression to result;
// other expressions get an empty vector.
type vectorQuery struct {
	mu      sync.Mutex
	results map[string]datasource.Vector
}

func (q *vectorQuery) set(expr string, v datasource.Vector) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.results == nil {
		q.results = map[string]datasource.Vector{}
	}
	q.results[expr] = v
}

func (q *vectorQuery) query(_ context.Context, expr string, _ time.Time) (datasource.Vector, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.results[expr], nil
}

func sample(t *testing.T, lset ...string) datasource.Sample {
	t.Helper()
	return datasource.Sample{Metric: labels.FromStrings(lset...), Value: 1}
}

// alertState is the state of one alert, for comparison.
type alertState struct {
	Rule     string // group/rule
	Labels   string
	State    string
	ActiveAt time.Time
	FiredAt  time.Time
}

func alertStates(m *eval.Manager) []alertState {
	var out []alertState
	for _, g := range m.Status() {
		for _, r := range g.Rules {
			for _, a := range r.Alerts {
				out = append(out, alertState{
					Rule:     g.Name + "/" + r.Name,
					Labels:   a.Labels.String(),
					State:    a.State.String(),
					ActiveAt: a.ActiveAt,
					FiredAt:  a.FiredAt,
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b alertState) int {
		return strings.Compare(a.Rule+a.Labels, b.Rule+b.Labels)
	})
	return out
}

// evalAll evaluates every group of m at ts.
func evalAll(t *testing.T, m *eval.Manager, ts time.Time) {
	t.Helper()
	for _, g := range m.Groups() {
		g.Eval(t.Context(), ts)
	}
}

var (
	mgrT0    = time.Unix(1_700_000_000, 0).UTC()
	settings = eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}
)

const nodeRules = `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    labels:
      severity: page
  - alert: HighLoad
    expr: node_load1 > 10
    for: 5m
    annotations:
      summary: high load
`

const diskRules = `groups:
- name: disk
  rules:
  - alert: DiskFull
    expr: disk_free == 0
`

// newStatefulManager returns a manager with node.yml and disk.yml loaded
// and evaluated at mgrT0 and mgrT0+1m: InstanceDown and DiskFull fire
// since mgrT0, HighLoad is pending since mgrT0.
func newStatefulManager(t *testing.T) (*eval.Manager, *captureSink) {
	t.Helper()
	q := &vectorQuery{}
	q.set("up == 0", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	q.set("node_load1 > 10", datasource.Vector{sample(t, "__name__", "node_load1", "instance", "a")})
	q.set("node_load1 > 20", datasource.Vector{sample(t, "__name__", "node_load1", "instance", "a")})
	q.set("disk_free == 0", datasource.Vector{sample(t, "__name__", "disk_free", "instance", "a")})
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{Query: q.query, Sink: sink})
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules, "disk.yml": diskRules})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0)
	evalAll(t, m, mgrT0.Add(time.Minute))
	want := []alertState{
		{Rule: "disk/DiskFull", Labels: `{alertname="DiskFull", instance="a"}`, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0},
		{Rule: "node/HighLoad", Labels: `{alertname="HighLoad", instance="a"}`, State: "pending", ActiveAt: mgrT0},
		{Rule: "node/InstanceDown", Labels: `{alertname="InstanceDown", instance="a", severity="page"}`, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0},
	}
	if diff := cmp.Diff(want, alertStates(m)); diff != "" {
		t.Fatalf("state before the update (-want +got):\n%s", diff)
	}
	sink.take()
	return m, sink
}

// groupChanges lists how the groups of after differ from before, by
// pointer: "replaced x", "added x", "removed x".
func groupChanges(before, after map[string]*eval.Group) []string {
	var out []string
	for n, g := range after {
		switch old, ok := before[n]; {
		case !ok:
			out = append(out, "added "+n)
		case old != g:
			out = append(out, "replaced "+n)
		}
	}
	for n := range before {
		if _, ok := after[n]; !ok {
			out = append(out, "removed "+n)
		}
	}
	slices.Sort(out)
	return out
}

func groupsByName(m *eval.Manager) map[string]*eval.Group {
	out := map[string]*eval.Group{}
	for _, g := range m.Groups() {
		out[g.Name()] = g
	}
	return out
}

// TestUpdateKeepsUnchangedGroups checks that an update with the same rules
// keeps every *Group, with its state, as Prometheus keeps unchanged groups
// running untouched.
func TestUpdateKeepsUnchangedGroups(t *testing.T) {
	m, _ := newStatefulManager(t)
	before := groupsByName(m)
	state := alertStates(m)
	// Parsed again: equal, not the same *rules.Group.
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules, "disk.yml": diskRules})); err != nil {
		t.Fatal(err)
	}
	if ch := groupChanges(before, groupsByName(m)); len(ch) > 0 {
		t.Errorf("groups changed: %v", ch)
	}
	if diff := cmp.Diff(state, alertStates(m)); diff != "" {
		t.Errorf("state (-before +after):\n%s", diff)
	}
}

// TestUpdateChangedGroupKeepsState checks Prometheus's Group.CopyState: a
// changed group is a new *Group whose rules take over the alerts of the
// old rules of the same name and unexpanded labels; a rule whose labels
// changed starts afresh.
func TestUpdateChangedGroupKeepsState(t *testing.T) {
	firingDown := alertState{Rule: "node/InstanceDown", Labels: `{alertname="InstanceDown", instance="a", severity="page"}`, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0}
	pendingLoad := alertState{Rule: "node/HighLoad", Labels: `{alertname="HighLoad", instance="a"}`, State: "pending", ActiveAt: mgrT0}
	firingDisk := alertState{Rule: "disk/DiskFull", Labels: `{alertname="DiskFull", instance="a"}`, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0}
	tests := []struct {
		name  string
		rules string       // the new node.yml
		want  []alertState // right after the update
		fresh []string     // rules whose state is lost (state "unknown")
		next  []alertState // after one more evaluation, at mgrT0+2m
		sent  []string     // alert names sent at mgrT0+2m
		check func(*testing.T, eval.GroupStatus)
	}{
		{
			name:  "changed expr",
			rules: strings.Replace(nodeRules, "node_load1 > 10", "node_load1 > 20", 1),
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			next:  []alertState{firingDisk, pendingLoad, firingDown},
			sent:  []string{"DiskFull", "InstanceDown"}, // resend period passed, not new
		},
		{
			name:  "changed for",
			rules: strings.Replace(nodeRules, "for: 5m", "for: 2m", 1),
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			next: []alertState{firingDisk,
				{Rule: "node/HighLoad", Labels: pendingLoad.Labels, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0.Add(2 * time.Minute)},
				firingDown},
			sent: []string{"DiskFull", "HighLoad", "InstanceDown"},
		},
		{
			name:  "for lengthened past a firing alert",
			rules: strings.Replace(nodeRules, "severity: page\n", "severity: page\n    for: 10m\n", 1),
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			next: []alertState{firingDisk, pendingLoad,
				{Rule: "node/InstanceDown", Labels: firingDown.Labels, State: "pending", ActiveAt: mgrT0}},
			sent: []string{"DiskFull"},
		},
		{
			name:  "changed annotations",
			rules: strings.Replace(nodeRules, "summary: high load", "summary: very high load", 1),
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			next:  []alertState{firingDisk, pendingLoad, firingDown},
			sent:  []string{"DiskFull", "InstanceDown"},
		},
		{
			name:  "rule added",
			rules: nodeRules + "  - alert: Extra\n    expr: extra > 0\n",
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			fresh: []string{"Extra"},
			next:  []alertState{firingDisk, pendingLoad, firingDown},
			sent:  []string{"DiskFull", "InstanceDown"},
		},
		{
			name: "rules reordered",
			rules: `groups:
- name: node
  rules:
  - alert: HighLoad
    expr: node_load1 > 10
    for: 5m
    annotations:
      summary: high load
  - alert: InstanceDown
    expr: up == 0
    labels:
      severity: page
`,
			want: []alertState{firingDisk, pendingLoad, firingDown},
			next: []alertState{firingDisk, pendingLoad, firingDown},
			sent: []string{"DiskFull", "InstanceDown"},
		},
		{
			name:  "changed interval",
			rules: strings.Replace(nodeRules, "- name: node\n", "- name: node\n  interval: 30s\n", 1),
			want:  []alertState{firingDisk, pendingLoad, firingDown},
			next:  []alertState{firingDisk, pendingLoad, firingDown},
			sent:  []string{"DiskFull", "InstanceDown"},
			check: func(t *testing.T, gs eval.GroupStatus) {
				if gs.Interval != 30*time.Second {
					t.Errorf("interval %v, want 30s", gs.Interval)
				}
			},
		},
		{
			name:  "changed rule labels",
			rules: strings.Replace(nodeRules, "severity: page", "severity: critical", 1),
			want:  []alertState{firingDisk, pendingLoad},
			fresh: []string{"InstanceDown"},
			next: []alertState{firingDisk, pendingLoad,
				{Rule: "node/InstanceDown", Labels: `{alertname="InstanceDown", instance="a", severity="critical"}`, State: "firing", ActiveAt: mgrT0.Add(2 * time.Minute), FiredAt: mgrT0.Add(2 * time.Minute)}},
			sent: []string{"DiskFull", "InstanceDown"},
		},
		{
			name:  "changed group labels",
			rules: strings.Replace(nodeRules, "- name: node\n", "- name: node\n  labels:\n    team: infra\n", 1),
			want:  []alertState{firingDisk},
			fresh: []string{"HighLoad", "InstanceDown"},
			next: []alertState{firingDisk,
				{Rule: "node/HighLoad", Labels: `{alertname="HighLoad", instance="a", team="infra"}`, State: "pending", ActiveAt: mgrT0.Add(2 * time.Minute)},
				{Rule: "node/InstanceDown", Labels: `{alertname="InstanceDown", instance="a", severity="page", team="infra"}`, State: "firing", ActiveAt: mgrT0.Add(2 * time.Minute), FiredAt: mgrT0.Add(2 * time.Minute)}},
			sent: []string{"DiskFull", "InstanceDown"},
		},
		{
			name:  "renamed rule",
			rules: strings.Replace(nodeRules, "alert: HighLoad", "alert: LoadHigh", 1),
			want:  []alertState{firingDisk, firingDown},
			fresh: []string{"LoadHigh"},
			next: []alertState{firingDisk,
				{Rule: "node/InstanceDown", Labels: firingDown.Labels, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0},
				{Rule: "node/LoadHigh", Labels: `{alertname="LoadHigh", instance="a"}`, State: "pending", ActiveAt: mgrT0.Add(2 * time.Minute)}},
			sent: []string{"DiskFull", "InstanceDown"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, sink := newStatefulManager(t)
			before := groupsByName(m)
			if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": tc.rules, "disk.yml": diskRules})); err != nil {
				t.Fatal(err)
			}
			after := groupsByName(m)
			if after["node"] == before["node"] {
				t.Error("the changed group kept its *Group")
			}
			if after["disk"] != before["disk"] {
				t.Error("the unchanged group got a new *Group")
			}
			if diff := cmp.Diff(tc.want, alertStates(m)); diff != "" {
				t.Errorf("state after the update (-want +got):\n%s", diff)
			}
			gs := after["node"].Status()
			for _, r := range gs.Rules {
				// A rule that took over alerts keeps showing its old
				// health (Prometheus shows "unknown" until the next
				// evaluation; not pinned here); a new one was never
				// evaluated.
				if slices.Contains(tc.fresh, r.Name) && (r.State != "unknown" || r.Health != eval.HealthUnknown || len(r.Alerts) > 0) {
					t.Errorf("new rule %s: state %q, health %q, alerts %v; want a rule never evaluated", r.Name, r.State, r.Health, r.Alerts)
				}
			}
			if tc.check != nil {
				tc.check(t, gs)
			}

			ts := mgrT0.Add(2 * time.Minute)
			evalAll(t, m, ts)
			if diff := cmp.Diff(tc.next, alertStates(m)); diff != "" {
				t.Errorf("state at the next evaluation (-want +got):\n%s", diff)
			}
			var sent []string
			for _, a := range sink.take() {
				sent = append(sent, a.Name())
			}
			slices.Sort(sent)
			if diff := cmp.Diff(tc.sent, sent); diff != "" {
				t.Errorf("sent at the next evaluation (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpdateCopiedStateIsNotResent checks that an alert taken over by a
// changed group is not notified again as new: it keeps LastSentAt.
func TestUpdateCopiedStateIsNotResent(t *testing.T) {
	q := &vectorQuery{}
	q.set("up == 0", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	q.set("up == 1", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{Query: q.query, Sink: sink})
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0)
	if got := sink.take(); len(got) != 1 {
		t.Fatalf("sent %v at the first evaluation, want InstanceDown", sentAlerts(got))
	}
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": strings.Replace(nodeRules, "up == 0", "up == 1", 1)})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0.Add(time.Minute)) // LastSentAt + 1m is not before ts
	if got := sink.take(); len(got) != 0 {
		t.Errorf("sent %v right after the reload, want nothing", sentAlerts(got))
	}
	evalAll(t, m, mgrT0.Add(2*time.Minute))
	want := []sentAlert{{Labels: `{alertname="InstanceDown", instance="a", severity="page"}`, StartsAt: mgrT0, EndsAt: mgrT0.Add(6 * time.Minute)}}
	if diff := cmp.Diff(want, sentAlerts(sink.take())); diff != "" {
		t.Errorf("sent at the resend (-want +got):\n%s", diff)
	}
}

// TestUpdateRemovesGroups checks that a group no longer in the files
// disappears.
func TestUpdateRemovesGroups(t *testing.T) {
	m, _ := newStatefulManager(t)
	before := groupsByName(m)
	if err := m.Update(settings, parseGroups(t, map[string]string{"disk.yml": diskRules})); err != nil {
		t.Fatal(err)
	}
	after := groupsByName(m)
	if len(after) != 1 || after["disk"] != before["disk"] {
		t.Errorf("groups after removing node.yml: %v, want only the old disk group", after)
	}
	want := []alertState{{Rule: "disk/DiskFull", Labels: `{alertname="DiskFull", instance="a"}`, State: "firing", ActiveAt: mgrT0, FiredAt: mgrT0}}
	if diff := cmp.Diff(want, alertStates(m)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	// The same group name in another file is another group.
	if err := m.Update(settings, parseGroups(t, map[string]string{"disk.yml": diskRules, "other.yml": diskRules})); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range m.Groups() {
		keys = append(keys, g.File()+";"+g.Name())
	}
	if diff := cmp.Diff([]string{"disk.yml;disk", "other.yml;disk"}, keys); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

// TestUpdateErrorKeepsGroups checks that a rule set that fails to build
// changes nothing: neither groups nor settings.
func TestUpdateErrorKeepsGroups(t *testing.T) {
	badTemplate := func() []*rules.Group {
		gs := parseGroups(t, map[string]string{"node.yml": nodeRules})
		g := *gs[0]
		g.Rules = slices.Clone(g.Rules)
		g.Rules[1].Annotations = map[string]string{"summary": "{{ .Labels.instance "}
		g.Rules[1].Line = 8
		return []*rules.Group{&g}
	}
	duplicate := func() []*rules.Group {
		gs := parseGroups(t, map[string]string{"node.yml": nodeRules})
		dup := *gs[0]
		dup.Line = 20
		return append(gs, &dup)
	}
	tests := []struct {
		name     string
		groups   func() []*rules.Group
		settings eval.Settings
		want     []string // in the error
	}{
		{
			name:     "template that fails to compile",
			groups:   badTemplate,
			settings: settings,
			want:     []string{"node.yml:8:", "group node", "rule HighLoad", `annotation "summary"`},
		},
		{
			name:     "two groups of the same file and name",
			groups:   duplicate,
			settings: settings,
			want:     []string{"node.yml:20:", "group node is repeated"},
		},
		{
			name:     "bad rules with new settings",
			groups:   duplicate,
			settings: eval.Settings{DefaultInterval: 30 * time.Second, ResendDelay: time.Minute, ExternalLabels: labels.FromStrings("dc", "x")},
			want:     []string{"repeated"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newStatefulManager(t)
			before := groupsByName(m)
			state := alertStates(m)
			err := m.Update(tc.settings, tc.groups())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if ch := groupChanges(before, groupsByName(m)); len(ch) > 0 {
				t.Errorf("groups changed: %v", ch)
			}
			if diff := cmp.Diff(state, alertStates(m)); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
			// The settings were not taken either: the old ones again
			// change nothing.
			if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules, "disk.yml": diskRules})); err != nil {
				t.Fatal(err)
			}
			if ch := groupChanges(before, groupsByName(m)); len(ch) > 0 {
				t.Errorf("groups changed by the old rules after a failed update: %v", ch)
			}
		})
	}
}

// TestUpdateSettingsRestartsGroups checks that changed global settings
// rebuild every group, with the state copied.
func TestUpdateSettingsRestartsGroups(t *testing.T) {
	tests := []struct {
		name     string
		settings eval.Settings
		check    func(t *testing.T, m *eval.Manager, sink *captureSink)
	}{
		{
			name:     "external labels",
			settings: eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute, ExternalLabels: labels.FromStrings("dc", "eu1")},
			check: func(t *testing.T, m *eval.Manager, sink *captureSink) {
				evalAll(t, m, mgrT0.Add(2*time.Minute))
				for _, a := range sink.take() {
					if a.Labels.Get("dc") != "eu1" {
						t.Errorf("sent %v without the new external label", a.Labels)
					}
				}
			},
		},
		{
			name:     "default interval",
			settings: eval.Settings{DefaultInterval: 30 * time.Second, ResendDelay: time.Minute},
			check: func(t *testing.T, m *eval.Manager, _ *captureSink) {
				for _, g := range m.Groups() {
					if g.Interval() != 30*time.Second {
						t.Errorf("group %s: interval %v, want 30s", g.Name(), g.Interval())
					}
				}
			},
		},
		{
			name:     "resend delay",
			settings: eval.Settings{DefaultInterval: time.Minute, ResendDelay: 5 * time.Minute},
			check: func(t *testing.T, m *eval.Manager, sink *captureSink) {
				evalAll(t, m, mgrT0.Add(2*time.Minute))
				if got := sink.take(); len(got) != 0 {
					t.Errorf("sent %v, want nothing before the new resend delay", sentAlerts(got))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, sink := newStatefulManager(t)
			before := groupsByName(m)
			state := alertStates(m)
			if err := m.Update(tc.settings, parseGroups(t, map[string]string{"node.yml": nodeRules, "disk.yml": diskRules})); err != nil {
				t.Fatal(err)
			}
			after := groupsByName(m)
			for name, g := range after {
				if g == before[name] {
					t.Errorf("group %s kept its *Group", name)
				}
			}
			if diff := cmp.Diff(state, alertStates(m)); diff != "" {
				t.Errorf("state (-before +after):\n%s", diff)
			}
			tc.check(t, m, sink)
		})
	}
}
