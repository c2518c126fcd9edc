package inhibit

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	amalert "github.com/prometheus/alertmanager/alert"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/eventrecorder"
	aminhibit "github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/marker"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// TestAgainstAlertmanager compares Mutes with Alertmanager's own
// inhibitor (v0.34.2, fed through its in-memory alert store) on random
// rules and alerts. Alertmanager's inhibitor reads the wall clock, so the
// alerts end hours away from now. Where several sources could inhibit,
// Alertmanager names any of them and alertd the latest-ending one, so the
// names are compared only where the reference finds one candidate.
func TestAgainstAlertmanager(t *testing.T) {
	names := []string{"a", "b", "c"}
	values := []string{"1", "2"}
	matchTypes := []amlabels.MatchType{amlabels.MatchEqual, amlabels.MatchEqual, amlabels.MatchNotEqual, amlabels.MatchRegexp, amlabels.MatchNotRegexp}
	for seed := range uint64(150) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		matcher := func() *amlabels.Matcher {
			typ := matchTypes[rnd.IntN(len(matchTypes))]
			v := values[rnd.IntN(len(values))]
			if typ == amlabels.MatchRegexp || typ == amlabels.MatchNotRegexp {
				v += "|x"
			}
			m, err := amlabels.NewMatcher(typ, names[rnd.IntN(len(names))], v)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		lset := func() labels.Labels { return randomLabels(rnd, names, values) }
		rules := make([]amcommoncfg.InhibitRule, 1+rnd.IntN(6))
		for i := range rules {
			r := &rules[i]
			for range rnd.IntN(3) {
				r.SourceMatchers = append(r.SourceMatchers, matcher())
			}
			for range rnd.IntN(3) {
				r.TargetMatchers = append(r.TargetMatchers, matcher())
			}
			if rnd.IntN(4) == 0 {
				r.TargetMatch = map[string]string{names[rnd.IntN(len(names))]: values[rnd.IntN(len(values))]}
			}
			for _, n := range names {
				if rnd.IntN(3) == 0 {
					r.Equal = append(r.Equal, n)
				}
			}
		}

		now := time.Now()
		ends := []time.Time{now.Add(-2 * time.Hour), now.Add(2 * time.Hour), now.Add(3 * time.Hour)}
		var alerts []*alert.Alert
		seen := make(map[uint64]bool)
		for range rnd.IntN(12) {
			ls := lset()
			if fp := alert.Fingerprint(ls); !seen[fp] {
				seen[fp] = true
				alerts = append(alerts, &alert.Alert{
					Labels:   ls,
					StartsAt: now.Add(-3 * time.Hour),
					EndsAt:   ends[rnd.IntN(len(ends))],
				})
			}
		}

		am := newAlertmanagerInhibitor(t, rules, alerts)
		ih, err := New(rules, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ih.Put(alerts...)
		ref := newReference(t, rules)
		for _, a := range alerts {
			ref.put(a)
		}

		for range 30 {
			ls := lset()
			got := ih.Mutes(ls)
			amMuted, amBy := am.mutes(ls)
			if (got != nil) != amMuted {
				t.Fatalf("seed %d: Mutes(%v) = %v, Alertmanager muted = %v by %v\nrules: %+v", seed, ls, got, amMuted, amBy, rules)
			}
			if cands := ref.mutes(ls, time.Now()); len(cands) == 1 {
				if len(amBy) != 1 || amBy[0] != cands[0] || len(got) != 1 || got[0] != cands[0] {
					t.Fatalf("seed %d: Mutes(%v) = %v, Alertmanager %v, reference %v", seed, ls, got, amBy, cands)
				}
			}
		}
	}
}

type alertmanagerInhibitor struct {
	ih     *aminhibit.Inhibitor
	marker marker.AlertMarker
}

// newAlertmanagerInhibitor runs Alertmanager's inhibitor over its in-memory
// store holding alerts, until the test ends.
func newAlertmanagerInhibitor(t *testing.T, rules []amcommoncfg.InhibitRule, alerts []*alert.Alert) *alertmanagerInhibitor {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	store, err := mem.NewAlerts(t.Context(), time.Hour, 0, nil, logger, eventrecorder.NopRecorder(), prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	for _, a := range alerts {
		ma := &amalert.Alert{
			Alert: model.Alert{
				Labels:   toModel(a.Labels),
				StartsAt: a.StartsAt,
				EndsAt:   a.EndsAt,
			},
			UpdatedAt: a.StartsAt,
		}
		if err := store.Put(t.Context(), ma); err != nil {
			t.Fatal(err)
		}
	}
	ih := aminhibit.NewInhibitor(store, rules, logger, eventrecorder.NopRecorder())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ih.Run()
	}()
	t.Cleanup(func() {
		ih.Stop()
		<-done
	})
	ih.WaitForLoading()
	return &alertmanagerInhibitor{ih: ih, marker: marker.NewAlertMarker()}
}

// mutes returns Alertmanager's answer and its inhibitedBy.
func (am *alertmanagerInhibitor) mutes(ls labels.Labels) (bool, []string) {
	lset := toModel(ls)
	muted := am.ih.Mutes(marker.WithContext(context.Background(), am.marker), lset)
	return muted, am.marker.Status(lset.Fingerprint()).InhibitedBy
}
