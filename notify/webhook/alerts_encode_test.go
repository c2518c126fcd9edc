package webhook

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
)

// checkAppendAlerts fails t unless appendAlerts writes for a what
// appendMessage writes for its Data, truncated the same way.
func checkAppendAlerts(t *testing.T, a *notify.Alerts, maxAlerts int) {
	t.Helper()
	want := appendMessage(nil, a.Data().Truncate(maxAlerts))
	if got := appendAlerts(nil, a, maxAlerts); !bytes.Equal(got, want) {
		t.Errorf("max_alerts %d:\n got %s\nwant %s", maxAlerts, got, want)
	}
}

func TestAppendAlerts(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cest := time.FixedZone("CEST", 2*3600)
	firing := &alert.Alert{
		Labels:       labels.FromStrings("alertname", "Down", "instance", "a:9100", "job", "node", "z", "\x00<&>\u2028\xff"),
		Annotations:  labels.FromStrings("summary", "a is down", "empty", ""),
		StartsAt:     time.Date(2026, 3, 2, 11, 58, 0, 123456789, cest),
		EndsAt:       now.Add(time.Minute), // not yet ended: shown as zero
		GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
	}
	resolved := &alert.Alert{
		Labels:      labels.FromStrings("alertname", "Down", "instance", "b:9100", "job", "node"),
		Annotations: labels.FromStrings("summary", "b is down", "empty", ""),
		StartsAt:    now.Add(-time.Hour),
		EndsAt:      now.Add(-time.Second).In(cest),
	}
	other := &alert.Alert{
		Labels:   labels.FromStrings("alertname", "Down", "instance", "c:9100"),
		StartsAt: now.Add(-time.Minute),
	}
	// Alerts that start together, some written in another zone: each
	// startsAt is written again or copied from the previous alert's.
	together := func(instance string, start time.Time) *alert.Alert {
		return &alert.Alert{Labels: labels.FromStrings("alertname", "Down", "instance", instance), StartsAt: start}
	}
	for _, tc := range []struct {
		name   string
		alerts []*alert.Alert
	}{
		{"shared startsAt", []*alert.Alert{
			together("d", firing.StartsAt), together("e", firing.StartsAt.UTC()), together("f", now),
			together("g", firing.StartsAt), together("h", now.Add(time.Nanosecond)), together("i", now.Add(time.Nanosecond).In(cest)),
		}},
		{"none", []*alert.Alert{}},
		{"one firing", []*alert.Alert{firing}},
		{"firing and resolved", []*alert.Alert{firing, resolved}},
		{"only resolved", []*alert.Alert{resolved}},
		{"few common labels", []*alert.Alert{firing, resolved, other}},
	} {
		a := &notify.Alerts{
			Receiver:    `team\.x "quoted"`,
			GroupKey:    `{}/{job="node"}:{alertname="Down"}`,
			GroupLabels: labels.FromStrings("alertname", "Down"),
			ExternalURL: "http://alertd:9095",
			Now:         now,
			Alerts:      tc.alerts,
		}
		t.Run(tc.name, func(t *testing.T) {
			for _, maxAlerts := range []int{0, 1, 2, math.MaxInt} {
				checkAppendAlerts(t, a, maxAlerts)
			}
		})
	}
}

func FuzzAppendAlerts(f *testing.F) {
	f.Add("team-x", "alertname", "Down", "summary", "<b>&</b>", int64(1772445480), int64(60), 2, uint8(3))
	f.Add("\xff\u2028", "\x00", "\"\\", "", "", int64(-62135596800), int64(-1), 0, uint8(0))
	f.Fuzz(func(t *testing.T, receiver, k, v, ak, av string, unix, endOffset int64, maxAlerts int, n uint8) {
		now := time.Unix(1772445480, 0)
		alerts := make([]*alert.Alert, int(n%8))
		for i := range alerts {
			b := labels.NewScratchBuilder(3)
			b.Add("alertname", "A")
			if k != "" && k != "alertname" && k != "i" {
				b.Add(k, v)
			}
			b.Add("i", fmt.Sprint(i%3)) // some alerts share every label
			b.Sort()
			ann := labels.EmptyLabels()
			if i%2 == 0 {
				ann = labels.FromStrings(ak, av)
			}
			alerts[i] = &alert.Alert{
				Labels:      b.Labels(),
				Annotations: ann,
				StartsAt:    time.Unix(unix%253402300799, 0),
				EndsAt:      now.Add(time.Duration(endOffset*int64(i)) * time.Second),
			}
		}
		checkAppendAlerts(t, &notify.Alerts{Receiver: receiver, GroupKey: k, GroupLabels: labels.FromStrings("alertname", v), Now: now, Alerts: alerts}, maxAlerts)
	})
}
