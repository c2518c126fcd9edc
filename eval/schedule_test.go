package eval_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
)

// TestEvalTimestampSlots checks Prometheus's slot placement: slots are
// k*interval + hash(name, file) % interval on the Unix epoch.
func TestEvalTimestampSlots(t *testing.T) {
	tests := []struct {
		name, group, file string
		interval          time.Duration
		wantOffset        time.Duration // when known from Prometheus
	}{
		// Verified against Prometheus (spec §1.11): slots at hh:mm:29.682445398.
		{name: "prometheus example", group: "example", file: "/etc/prometheus/rules.yml", interval: time.Minute, wantOffset: 29682445398 * time.Nanosecond},
		{name: "15s", group: "node", file: "rules/node.yml", interval: 15 * time.Second},
		{name: "5m", group: "node", file: "rules/node.yml", interval: 5 * time.Minute},
		{name: "1h", group: "slow", file: "/etc/alertd/slow.yml", interval: time.Hour},
		{name: "1ms", group: "fast", file: "fast.yml", interval: time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := singleGroup(t, tc.file, fmt.Sprintf("groups:\n- name: %s\n  interval: %s\n  rules:\n  - alert: A\n    expr: up == 0\n", tc.group, tc.interval))
			offset := time.Duration(labels.FromStrings("name", tc.group, "file", tc.file).Hash() % uint64(tc.interval))
			if tc.wantOffset != 0 && offset != tc.wantOffset {
				t.Fatalf("hash offset %v, want %v (Prometheus)", offset, tc.wantOffset)
			}
			for _, now := range []time.Time{
				time.Unix(1_700_000_000, 0),
				time.Unix(1_700_000_000, 123_456_789),
				time.Date(2026, 3, 29, 1, 59, 59, 999_999_999, time.UTC),
				time.Unix(0, int64(tc.interval)*1_000_003+int64(offset)), // exactly on a slot
			} {
				s := g.EvalTimestamp(now)
				if s.After(now) || now.Sub(s) >= tc.interval {
					t.Errorf("EvalTimestamp(%v) = %v, want the last slot at or before it", now, s)
				}
				if got := time.Duration(s.UnixNano() % int64(tc.interval)); got != offset {
					t.Errorf("EvalTimestamp(%v) = %v: offset %v in its interval, want %v", now, s, got, offset)
				}
				next := g.EvalTimestamp(s.Add(tc.interval))
				if d := next.Sub(s); d != tc.interval {
					t.Errorf("slots %v and %v are %v apart, want %v", s, next, d, tc.interval)
				}
				if got := g.EvalTimestamp(s); !got.Equal(s) {
					t.Errorf("EvalTimestamp of slot %v = %v, want the slot", s, got)
				}
				if got := g.EvalTimestamp(s.Add(-time.Nanosecond)); !got.Equal(s.Add(-tc.interval)) {
					t.Errorf("EvalTimestamp(1ns before slot %v) = %v, want the previous slot", s, got)
				}
			}
		})
	}
}

func singleGroup(t *testing.T, file, content string) *eval.Group {
	t.Helper()
	m := eval.NewManager(eval.ManagerOptions{})
	if err := m.Update(eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}, parseGroups(t, map[string]string{file: content})); err != nil {
		t.Fatal(err)
	}
	return m.Groups()[0]
}

// queryCall is one call of the query function.
type queryCall struct {
	Expr string
	TS   time.Time // the evaluation time asked for
	At   time.Time // the (bubble's) clock at the call
}

// callRecorder is a QueryFunc that records its calls; before, if set,
// runs first and may block.
type callRecorder struct {
	mu     sync.Mutex
	calls  []queryCall
	before func(ctx context.Context, c queryCall, n int) // n: the number of earlier calls
}

func (r *callRecorder) query(ctx context.Context, expr string, ts time.Time) (datasource.Vector, error) {
	c := queryCall{Expr: expr, TS: ts, At: time.Now()}
	r.mu.Lock()
	n := len(r.calls)
	r.calls = append(r.calls, c)
	before := r.before
	r.mu.Unlock()
	if before != nil {
		before(ctx, c, n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return datasource.Vector{}, nil
}

func (r *callRecorder) take() []queryCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// runManager runs m in the bubble until the test stops it with the
// returned function, which waits for Run to return and reports how long
// that took on the bubble's clock.
func runManager(t *testing.T, m *eval.Manager) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop = func() time.Duration {
		if stopped {
			return 0
		}
		stopped = true
		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		return time.Since(start)
	}
	t.Cleanup(func() { stop() })
	return stop
}

const schedRules = `groups:
- name: a
  rules:
  - alert: A1
    expr: a1 == 1
  - alert: A2
    expr: a2 == 1
  - alert: A3
    expr: a3 == 1
- name: b
  interval: 30s
  rules:
  - alert: B1
    expr: b1 == 1
`

// TestManagerSchedule checks a running manager against Prometheus's
// Group.run: the first evaluation at the next slot after the start, then
// one per interval, all rules of a group at the same timestamp and in file
// order.
func TestManagerSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		m := eval.NewManager(eval.ManagerOptions{Query: rec.query})
		if err := m.Update(eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}, parseGroups(t, map[string]string{"sched.yml": schedRules})); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ga, gb := m.Groups()[0], m.Groups()[1]
		firstA := ga.EvalTimestamp(start).Add(time.Minute)
		firstB := gb.EvalTimestamp(start).Add(30 * time.Second)
		stop := runManager(t, m)

		// Nothing before the first slot of either group.
		first := firstA
		if firstB.Before(first) {
			first = firstB
		}
		time.Sleep(first.Sub(start) - time.Nanosecond)
		synctest.Wait()
		if calls := rec.take(); len(calls) > 0 {
			t.Fatalf("evaluated before the first slot %v (start %v): %+v", first, start, calls)
		}

		end := firstA.Add(3 * time.Minute)
		time.Sleep(time.Until(end))
		synctest.Wait()
		if d := stop(); d != 0 {
			t.Errorf("Run took %v to return", d)
		}

		var want []queryCall
		for ts := firstA; !ts.After(end); ts = ts.Add(time.Minute) {
			for _, e := range []string{"a1 == 1", "a2 == 1", "a3 == 1"} {
				want = append(want, queryCall{Expr: e, TS: ts, At: ts})
			}
		}
		for ts := firstB; !ts.After(end); ts = ts.Add(30 * time.Second) {
			want = append(want, queryCall{Expr: "b1 == 1", TS: ts, At: ts})
		}
		got := rec.take()
		var gotA, gotB []queryCall
		for _, c := range got {
			if strings.HasPrefix(c.Expr, "a") {
				gotA = append(gotA, c)
			} else {
				gotB = append(gotB, c)
			}
		}
		if diff := cmp.Diff(want, append(gotA, gotB...)); diff != "" {
			t.Errorf("calls (start %v) (-want +got):\n%s", start, diff)
		}
		for _, g := range m.Status() {
			for _, r := range g.Rules {
				if r.Health != eval.HealthGood {
					t.Errorf("rule %s: health %q (%s)", r.Name, r.Health, r.LastError)
				}
			}
		}
	})
}

// TestGroupsRunConcurrently checks that groups do not wait for each
// other: while one group's evaluation hangs, the other evaluates on time.
func TestGroupsRunConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		var (
			mu       sync.Mutex
			firstOf  string // the group of the first evaluation
			timedOut bool
			otherRan = make(chan struct{})
		)
		rec.before = func(ctx context.Context, c queryCall, n int) {
			group := c.Expr[:1]
			mu.Lock()
			if n == 0 {
				firstOf = group
			}
			first := firstOf
			mu.Unlock()
			if n == 0 {
				// The first evaluation hangs until the other group ran.
				select {
				case <-otherRan:
				case <-ctx.Done():
				case <-time.After(2 * time.Minute):
					mu.Lock()
					timedOut = true
					mu.Unlock()
				}
				return
			}
			if group != first {
				select {
				case <-otherRan:
				default:
					close(otherRan)
				}
			}
		}
		m := eval.NewManager(eval.ManagerOptions{Query: rec.query})
		if err := m.Update(eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}, parseGroups(t, map[string]string{"sched.yml": schedRules})); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := runManager(t, m)
		time.Sleep(time.Minute)
		synctest.Wait()
		stop()
		mu.Lock()
		defer mu.Unlock()
		if timedOut {
			t.Fatal("the other group did not evaluate while the first one hung")
		}
		calls := 0
		for _, c := range rec.take() {
			if c.Expr[:1] == firstOf {
				continue // late after the hang
			}
			calls++
			if !c.At.Equal(c.TS) {
				t.Errorf("%s at %v evaluated at %v (start %v), want on its slot", c.Expr, c.TS, c.At, start)
			}
		}
		if calls == 0 {
			t.Errorf("group %s was the only one to evaluate", firstOf)
		}
	})
}

// iterationCounts reads the iteration counters of a group from reg.
func iterationCounts(t *testing.T, reg *prometheus.Registry, key string) (total, missed float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != key {
				continue
			}
			switch mf.GetName() {
			case "alertd_rule_group_iterations_total":
				total = m.GetCounter().GetValue()
				found++
			case "alertd_rule_group_iterations_missed_total":
				missed = m.GetCounter().GetValue()
				found++
			}
		}
	}
	if found != 2 {
		t.Fatalf("iteration counters of %s not found", key)
	}
	return total, missed
}

// TestOverrunSkipsSlots checks that an evaluation longer than the
// interval skips the slots it overran, counts them as missed, and keeps
// later evaluations on the slot grid, as Prometheus's Group.run.
func TestOverrunSkipsSlots(t *testing.T) {
	const interval = time.Minute
	tests := []struct {
		name    string
		slow    int             // the call that takes 2.5 intervals
		wantTS  []time.Duration // the evaluation times after the first slot
		wantAt  []time.Duration // when they ran
		missed  float64
		evals   int
		runTime time.Duration // after the first slot
	}{
		{
			// The ticker runs from the first slot, so the evaluation
			// at first+2.5i is the first+2i one, late.
			name:    "first evaluation",
			slow:    0,
			wantTS:  []time.Duration{0, 2 * interval, 3 * interval, 4 * interval, 5 * interval},
			wantAt:  []time.Duration{0, 5 * interval / 2, 3 * interval, 4 * interval, 5 * interval},
			missed:  1,
			runTime: 5 * interval,
		},
		{
			name:    "later evaluation",
			slow:    1,
			wantTS:  []time.Duration{0, interval, 3 * interval, 4 * interval, 5 * interval},
			wantAt:  []time.Duration{0, interval, 7 * interval / 2, 4 * interval, 5 * interval},
			missed:  1,
			runTime: 5 * interval,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &callRecorder{before: func(ctx context.Context, _ queryCall, n int) {
					if n == tc.slow {
						select {
						case <-time.After(5 * interval / 2):
						case <-ctx.Done():
						}
					}
				}}
				reg := prometheus.NewRegistry()
				m := eval.NewManager(eval.ManagerOptions{Query: rec.query, Registerer: reg})
				groups := parseGroups(t, map[string]string{"slow.yml": "groups:\n- name: slow\n  rules:\n  - alert: Slow\n    expr: slow == 1\n"})
				if err := m.Update(eval.Settings{DefaultInterval: interval, ResendDelay: time.Minute}, groups); err != nil {
					t.Fatal(err)
				}
				first := m.Groups()[0].EvalTimestamp(time.Now()).Add(interval)
				stop := runManager(t, m)
				time.Sleep(time.Until(first.Add(tc.runTime)))
				synctest.Wait()
				stop()

				var gotTS, gotAt []time.Duration
				for _, c := range rec.take() {
					gotTS = append(gotTS, c.TS.Sub(first))
					gotAt = append(gotAt, c.At.Sub(first))
				}
				if diff := cmp.Diff(tc.wantTS, gotTS); diff != "" {
					t.Errorf("evaluation timestamps after the first slot (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.wantAt, gotAt); diff != "" {
					t.Errorf("evaluation clock times after the first slot (-want +got):\n%s", diff)
				}
				total, missed := iterationCounts(t, reg, "slow.yml;slow")
				if missed != tc.missed {
					t.Errorf("alertd_rule_group_iterations_missed_total %v, want %v", missed, tc.missed)
				}
				if want := float64(len(tc.wantTS)) + tc.missed; total != want {
					t.Errorf("alertd_rule_group_iterations_total %v, want %v (evaluations and missed)", total, want)
				}
			})
		})
	}
}

// TestStopIsPrompt checks that cancelling Run returns at once (on the
// bubble's clock) whether the groups wait for their slot or are in the
// middle of a query, and that nothing runs afterwards.
func TestStopIsPrompt(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration // how long Run runs before the stop
		hang  bool          // queries block until their context ends
	}{
		{name: "before the first slot", after: 0},
		{name: "between slots", after: 90 * time.Second},
		{name: "during a query", after: 90 * time.Second, hang: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &callRecorder{}
				if tc.hang {
					rec.before = func(ctx context.Context, _ queryCall, _ int) { <-ctx.Done() }
				}
				m := eval.NewManager(eval.ManagerOptions{Query: rec.query})
				if err := m.Update(eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}, parseGroups(t, map[string]string{"sched.yml": schedRules})); err != nil {
					t.Fatal(err)
				}
				stop := runManager(t, m)
				time.Sleep(tc.after)
				synctest.Wait()
				if d := stop(); d != 0 {
					t.Errorf("Run took %v to return", d)
				}
				n := len(rec.take())
				if tc.hang && n == 0 {
					t.Fatal("no query was running at the stop")
				}
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				if calls := rec.take(); len(calls) > 0 {
					t.Errorf("queries after Run returned: %+v", calls)
				}
				if tc.hang {
					// A query cut short by the stop is not a rule failure.
					for _, g := range m.Status() {
						for _, r := range g.Rules {
							if r.Health == eval.HealthBad {
								t.Errorf("rule %s: health %q after the stop (%s)", r.Name, r.Health, r.LastError)
							}
						}
					}
				}
			})
		})
	}
}

// TestUpdateWhileRunning checks reloads of a running manager: an
// unchanged group keeps its schedule, a changed group continues on its
// slot grid with the new rules, and a removed group stops.
func TestUpdateWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		m := eval.NewManager(eval.ManagerOptions{Query: rec.query})
		s := eval.Settings{DefaultInterval: time.Minute, ResendDelay: time.Minute}
		if err := m.Update(s, parseGroups(t, map[string]string{"sched.yml": schedRules, "other.yml": "groups:\n- name: c\n  rules:\n  - alert: C1\n    expr: c1 == 1\n"})); err != nil {
			t.Fatal(err)
		}
		byName := groupsByName(m)
		firstA := byName["a"].EvalTimestamp(time.Now()).Add(time.Minute)
		firstC := byName["c"].EvalTimestamp(time.Now()).Add(time.Minute)
		stop := runManager(t, m)
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		rec.take()

		// a changes (a rule added), b is removed, c is unchanged.
		reload := time.Now()
		changed := strings.Replace(schedRules, "- name: b\n  interval: 30s\n  rules:\n  - alert: B1\n    expr: b1 == 1\n", "", 1) +
			"  - alert: A4\n    expr: a4 == 1\n"
		if err := m.Update(s, parseGroups(t, map[string]string{"sched.yml": changed, "other.yml": "groups:\n- name: c\n  rules:\n  - alert: C1\n    expr: c1 == 1\n"})); err != nil {
			t.Fatal(err)
		}
		if groupsByName(m)["c"] != byName["c"] {
			t.Error("the unchanged group was replaced")
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		stop()

		onGrid := func(c queryCall, first time.Time) bool {
			return c.TS.Sub(first)%time.Minute == 0 && c.At.Equal(c.TS)
		}
		var aCalls, cCalls int
		a4 := false
		for _, c := range rec.take() {
			switch c.Expr[:1] {
			case "a":
				aCalls++
				a4 = a4 || c.Expr == "a4 == 1"
				if !onGrid(c, firstA) || !c.TS.After(reload) {
					t.Errorf("group a: %+v, want on its slot grid (first %v) after the reload at %v", c, firstA, reload)
				}
			case "b":
				t.Errorf("the removed group b still runs: %+v", c)
			case "c":
				cCalls++
				if !onGrid(c, firstC) {
					t.Errorf("group c: %+v, want on its slot grid (first %v)", c, firstC)
				}
			}
		}
		// 3 minutes: 3 evaluations of c; a restarts at its next slot after
		// the reload, so 3 evaluations of its 4 rules.
		if aCalls != 12 || !a4 || cCalls != 3 {
			t.Errorf("after the reload: %d queries of group a (A4 among them: %v), %d of group c; want 12 and 3", aCalls, a4, cCalls)
		}
	})
}
