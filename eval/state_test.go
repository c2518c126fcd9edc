package eval_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
)

// memState is a StateStore in memory, standing in for the store.
type memState struct {
	mu     sync.Mutex
	states map[string][]byte
	saves  int
	fail   error
}

func (s *memState) Load() (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.states), nil
}

func (s *memState) Save(key string, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.states == nil {
		s.states = map[string][]byte{}
	}
	s.states[key] = append([]byte(nil), b...)
	s.saves++
	return nil
}

func (s *memState) Delete(keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.states, k)
	}
	return nil
}

const restartRules = `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    labels:
      severity: page
  - alert: HighLoad
    expr: node_load1 > 10
    for: 30m
  - alert: Flapping
    expr: flap > 0
    keep_firing_for: 10m
  - alert: ShortFor
    expr: short > 0
    for: 5m
`

// TestRestartKeepsAlertState runs a manager, "restarts" it (a new manager
// on the same saved state) after various outages, and checks what each
// kind of alert kept.
func TestRestartKeepsAlertState(t *testing.T) {
	down := `{alertname="InstanceDown", instance="a", severity="page"}`
	load := `{alertname="HighLoad", instance="a"}`
	flap := `{alertname="Flapping", instance="a"}`
	short := `{alertname="ShortFor", instance="a"}`
	for _, tc := range []struct {
		name   string
		outage time.Duration // from the last evaluation to the first after the restart
		// Whether the series are still there after the restart.
		present bool
		want    []alertState
		sent    []sentAlert
	}{
		{
			// 20s: the firing alerts were sent less than the resend
			// delay (1m) before the crash, and are sent again at once.
			name: "short outage, conditions hold", outage: 20 * time.Second, present: true,
			want: []alertState{
				{Rule: "node/Flapping", Labels: flap, State: "firing", ActiveAt: mgrT0.Add(-20 * time.Minute), FiredAt: mgrT0.Add(-20 * time.Minute)},
				// Pending since t0-10m, down at t0: 20m left, shifted by the 20s outage.
				{Rule: "node/HighLoad", Labels: load, State: "pending", ActiveAt: mgrT0.Add(-10*time.Minute + 20*time.Second)},
				{Rule: "node/InstanceDown", Labels: down, State: "firing", ActiveAt: mgrT0.Add(-20 * time.Minute), FiredAt: mgrT0.Add(-20 * time.Minute)},
				// for 5m < the 10m grace period: not restored, starts over.
				{Rule: "node/ShortFor", Labels: short, State: "pending", ActiveAt: mgrT0.Add(20 * time.Second)},
			},
			// Firing alerts keep their StartsAt: the receiver sees the
			// same alerts, not new ones.
			sent: []sentAlert{
				{Labels: down, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(4*time.Minute + 20*time.Second)},
				{Labels: flap, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(4*time.Minute + 20*time.Second)},
			},
		},
		{
			name: "outage beyond the tolerance", outage: 2 * time.Hour, present: true,
			want: []alertState{
				{Rule: "node/Flapping", Labels: flap, State: "firing", ActiveAt: mgrT0.Add(-20 * time.Minute), FiredAt: mgrT0.Add(-20 * time.Minute)},
				{Rule: "node/HighLoad", Labels: load, State: "pending", ActiveAt: mgrT0.Add(2 * time.Hour)},
				{Rule: "node/InstanceDown", Labels: down, State: "firing", ActiveAt: mgrT0.Add(-20 * time.Minute), FiredAt: mgrT0.Add(-20 * time.Minute)},
				{Rule: "node/ShortFor", Labels: short, State: "pending", ActiveAt: mgrT0.Add(2 * time.Hour)},
			},
			sent: []sentAlert{
				{Labels: down, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(2*time.Hour + 4*time.Minute)},
				{Labels: flap, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(2*time.Hour + 4*time.Minute)},
			},
		},
		{
			name: "conditions gone", outage: 2 * time.Minute, present: false,
			want: []alertState{
				// keep_firing_for counts from the first evaluation that misses it.
				{Rule: "node/Flapping", Labels: flap, State: "firing", ActiveAt: mgrT0.Add(-20 * time.Minute), FiredAt: mgrT0.Add(-20 * time.Minute)},
				// InstanceDown resolved: not listed, as in Prometheus.
			},
			// The resolution is sent at once.
			sent: []sentAlert{
				{Labels: down, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(2 * time.Minute)},
				{Labels: flap, StartsAt: mgrT0.Add(-20 * time.Minute), EndsAt: mgrT0.Add(6 * time.Minute)},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &vectorQuery{}
			all := map[string]string{"up == 0": "up", "node_load1 > 10": "node_load1", "flap > 0": "flap", "short > 0": "short"}
			for expr, name := range all {
				q.set(expr, datasource.Vector{sample(t, "__name__", name, "instance", "a")})
			}
			state := &memState{}
			m := eval.NewManager(eval.ManagerOptions{Query: q.query, State: state})
			if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": restartRules})); err != nil {
				t.Fatal(err)
			}
			// InstanceDown and Flapping fire from t0-20m; HighLoad and
			// ShortFor are pending from t0-10m (only ShortFor's series
			// appears then; HighLoad's for is 30m).
			q.set("short > 0", nil)
			q.set("node_load1 > 10", nil)
			evalAll(t, m, mgrT0.Add(-20*time.Minute))
			q.set("short > 0", datasource.Vector{sample(t, "__name__", "short", "instance", "a")})
			q.set("node_load1 > 10", datasource.Vector{sample(t, "__name__", "node_load1", "instance", "a")})
			for ts := mgrT0.Add(-10 * time.Minute); !ts.After(mgrT0); ts = ts.Add(time.Minute) {
				if ts.Equal(mgrT0.Add(-6 * time.Minute)) {
					q.set("short > 0", nil) // ShortFor goes back to nothing before firing
				}
				if ts.Equal(mgrT0.Add(-3 * time.Minute)) {
					q.set("short > 0", datasource.Vector{sample(t, "__name__", "short", "instance", "a")})
				}
				evalAll(t, m, ts)
			}

			// The restart.
			if !tc.present {
				for expr := range all {
					q.set(expr, nil)
				}
			}
			sink := &captureSink{}
			m2 := eval.NewManager(eval.ManagerOptions{Query: q.query, Sink: sink, State: state})
			if err := m2.Update(settings, parseGroups(t, map[string]string{"node.yml": restartRules})); err != nil {
				t.Fatal(err)
			}
			evalAll(t, m2, mgrT0.Add(tc.outage))
			if diff := cmp.Diff(tc.want, alertStates(m2)); diff != "" {
				t.Errorf("alerts after the restart (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.sent, sentAlerts(sink.take())); diff != "" {
				t.Errorf("sent after the restart (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStateSavedOnlyWhenChanged checks that an evaluation that changes
// nothing a restart needs does not write, and that a failed write is tried
// again.
func TestStateSavedOnlyWhenChanged(t *testing.T) {
	q := &vectorQuery{}
	q.set("up == 0", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	state := &memState{}
	m := eval.NewManager(eval.ManagerOptions{Query: q.query, State: state})
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": strings.Replace(nodeRules, "for: 5m", "for: 0s", 1)})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0) // InstanceDown fires and is sent: saved
	if state.saves != 1 {
		t.Fatalf("%d saves after the first evaluation, want 1", state.saves)
	}
	evalAll(t, m, mgrT0.Add(30*time.Second)) // nothing changes, nothing sent
	if state.saves != 1 {
		t.Errorf("%d saves after an evaluation that changed nothing, want 1", state.saves)
	}
	state.fail = errors.New("disk full")
	evalAll(t, m, mgrT0.Add(90*time.Second)) // resent: a save, failing
	state.fail = nil
	evalAll(t, m, mgrT0.Add(120*time.Second)) // nothing new, but the failed save is redone
	if state.saves != 2 {
		t.Errorf("%d saves, want the failed one redone", state.saves)
	}
}

// TestRestartForgetsRemovedGroups checks that the state of a group no
// longer configured is removed at the restart, and unreadable state too.
func TestRestartForgetsRemovedGroups(t *testing.T) {
	state := &memState{states: map[string][]byte{
		"gone.yml;gone": {1, 0, 0},
		"node.yml;node": []byte("garbage"),
	}}
	m := eval.NewManager(eval.ManagerOptions{State: state})
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules})); err != nil {
		t.Fatal(err)
	}
	if len(state.states) != 0 {
		t.Errorf("states left: %v", state.states)
	}
}

// TestDatasourceOutageKeepsAlertsAlive evaluates a firing rule while the
// datasource does not answer for ten minutes: the alert stays firing and is
// still sent on the resend cadence, with EndsAt moving on, so receivers do
// not resolve it.
func TestDatasourceOutageKeepsAlertsAlive(t *testing.T) {
	q := &vectorQuery{}
	q.set("up == 0", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	var down bool
	query := func(ctx context.Context, expr string, ts time.Time) (datasource.Vector, error) {
		if down {
			return nil, &datasource.QueryError{Message: "connection refused", Retryable: true}
		}
		return q.query(ctx, expr, ts)
	}
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{Query: query, Sink: sink})
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": nodeRules})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0)
	sink.take()
	down = true
	var sent []sentAlert
	for i := 1; i <= 10; i++ {
		evalAll(t, m, mgrT0.Add(time.Duration(i)*time.Minute))
		sent = append(sent, sentAlerts(sink.take())...)
	}
	if len(sent) < 4 {
		t.Fatalf("sent during a 10m outage: %+v, want the firing alert on its resend cadence", sent)
	}
	last := sent[len(sent)-1]
	if last.StartsAt != mgrT0 || !last.EndsAt.After(mgrT0.Add(10*time.Minute)) {
		t.Errorf("last alert sent during the outage: %+v, want it firing since t0 and ending after the outage", last)
	}
	if got := alertStates(m); len(got) != 1 || got[0].State != "firing" {
		t.Errorf("alerts after the outage: %+v", got)
	}
}

// TestUnchangedPendingGroupSavesOnlyItsTime evaluates a group whose alerts
// do not change while one is pending: its state is not written again, only
// the time of the evaluation, which the restart then counts the outage
// from.
func TestUnchangedPendingGroupSavesOnlyItsTime(t *testing.T) {
	q := &vectorQuery{}
	q.set("up == 0", datasource.Vector{sample(t, "__name__", "up", "instance", "a")})
	q.set("node_load1 > 10", datasource.Vector{sample(t, "__name__", "node_load1", "instance", "a")})
	state := &memState{}
	m := eval.NewManager(eval.ManagerOptions{Query: q.query, State: state})
	rules := strings.Replace(nodeRules, "for: 5m", "for: 30m", 1)
	if err := m.Update(settings, parseGroups(t, map[string]string{"node.yml": rules})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m, mgrT0) // InstanceDown fires and is sent, HighLoad pending: the state
	full := string(state.states["node.yml;node"])
	evalAll(t, m, mgrT0.Add(time.Minute)) // nothing changes, nothing sent
	if string(state.states["node.yml;node"]) != full {
		t.Error("the unchanged state was written again")
	}
	times := 0
	for k := range state.states {
		if strings.HasSuffix(k, "node.yml;node") && k != "node.yml;node" {
			times++
		}
	}
	if times != 1 || len(state.states) != 2 {
		t.Fatalf("saved keys %v, want the state and the time of the last evaluation", slices.Collect(maps.Keys(state.states)))
	}

	m2 := eval.NewManager(eval.ManagerOptions{Query: q.query, State: state})
	if err := m2.Update(settings, parseGroups(t, map[string]string{"node.yml": rules})); err != nil {
		t.Fatal(err)
	}
	evalAll(t, m2, mgrT0.Add(time.Minute+20*time.Second))
	found := false
	for _, a := range alertStates(m2) {
		// Down 20s after the evaluation at t0+1m: for's clock moves by 20s.
		if a.Rule == "node/HighLoad" {
			found = true
			if !a.ActiveAt.Equal(mgrT0.Add(20 * time.Second)) {
				t.Errorf("HighLoad active since %s after the restart, want t0+20s", a.ActiveAt.Sub(mgrT0))
			}
		}
	}
	if !found {
		t.Errorf("HighLoad not restored: %+v", alertStates(m2))
	}
}
