package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/store"
)

// discard is an integration that sends nowhere.
type discard struct{}

func (discard) Name() string                                       { return "discard" }
func (discard) Index() int                                         { return 0 }
func (discard) SendResolved() bool                                 { return true }
func (discard) Notify(context.Context, *notify.Data) (bool, error) { return false, nil }

// BenchmarkDedup is one flush of a group of 100 alerts (10 of them
// resolved) through the pipeline: "deduplicated" is the steady state of a
// group that has not changed (hash, look up, decide, send nothing);
// "notified" also builds the data, calls an integration that does nothing
// and writes the notification log.
func BenchmarkDedup(b *testing.B) {
	const size = 100
	alerts := make([]*alert.Alert, size)
	for i := range alerts {
		alerts[i] = &alert.Alert{
			Labels: labels.FromStrings("alertname", "Down", "instance", fmt.Sprintf("host-%03d:9100", i),
				"job", "node", "severity", "page", "team", "infra"),
			Annotations: labels.FromStrings("summary", "host is down", "runbook", "https://wiki.example.org/Down"),
			StartsAt:    t0.Add(-time.Hour),
		}
		if i%10 == 0 {
			alerts[i].EndsAt = t0.Add(-time.Minute)
		}
	}
	for _, backend := range []string{"memory", "bbolt"} {
		for _, outcome := range []string{"deduplicated", "notified"} {
			b.Run(fmt.Sprintf("alerts=%d/nflog=%s/outcome=%s", size, backend, outcome), func(b *testing.B) {
				o := notify.Options{Receivers: map[string][]notify.Integration{receiverName: {discard{}}}}
				if backend == "bbolt" {
					s, err := store.Open(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = s.Close() })
					o.Store = s
				}
				p, err := notify.New(o)
				if err != nil {
					b.Fatal(err)
				}
				repeat := 4 * time.Hour
				if outcome == "notified" {
					repeat = time.Nanosecond
				}
				n := flush(t0, repeat, alerts...)
				if err := p.Notify(b.Context(), n); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					n.Now = n.Now.Add(time.Second)
					if err := p.Notify(b.Context(), n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
