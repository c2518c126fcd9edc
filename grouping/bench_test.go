package grouping

import (
	"fmt"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// BenchmarkPut is the ingest path after decoding: 1,000 alerts into the
// store, which hands them to the dispatcher (routing, group labels,
// aggregation groups).
func BenchmarkPut(b *testing.B) {
	cfg, err := amconfig.Load("route: {receiver: r, group_by: [group]}\nreceivers: [{name: r}]\n")
	if err != nil {
		b.Fatal(err)
	}
	d := NewDispatcher(DispatcherOptions{Route: NewRoute(cfg.Route, nil), Notifier: notifierFunc(nil)})
	s := NewAlerts(AlertsOptions{OnPut: func(as []*alert.Alert) { d.Put(as...) }})
	now := time.Now()
	batch := make([]*alert.Alert, 1000)
	for i := range batch {
		batch[i] = &alert.Alert{
			Labels:   labels.FromStrings("alertname", "Load", "group", fmt.Sprint("g", i%100), "instance", fmt.Sprint("i", i)),
			StartsAt: now, EndsAt: now.Add(time.Hour), UpdatedAt: now,
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Put(batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/alert")
}
