package flushlat

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// BenchmarkWebhookDelivery is bench/amload's delivery in one process: the
// alerts of deliveryGroups groups of deliveryAlerts alerts each put at
// once, every group due after groupWait and flushed through the pipeline
// to one webhook on loopback (the default http_config, as a webhook
// without one has), until the receiver has every alert. It reports the
// whole delivery's cost per notification; the receiver (net/http's server,
// counting alerts in the bytes) is part of it, in the CPU profile under
// net/http.(*conn).serve.
func BenchmarkWebhookDelivery(b *testing.B) {
	const (
		deliveryGroups = 10_000
		deliveryAlerts = 10
	)
	var alerts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		alerts.Add(int64(bytes.Count(body, []byte(`"instance":`))))
	}))
	defer srv.Close()
	d, rec := startDispatcher(b, fmt.Sprintf(`{name: r, webhook_configs: [{url: %q}]}`, srv.URL+"/hook"))

	iter := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		iter++
		now := time.Now()
		batch := make([]*alert.Alert, 0, deliveryGroups*deliveryAlerts)
		for i := range deliveryGroups * deliveryAlerts {
			batch = append(batch, &alert.Alert{
				Labels: labels.FromStrings("alertname", "Load", "group", fmt.Sprintf("g%dx%d", iter, i%deliveryGroups),
					"instance", fmt.Sprintf("i%d", i)),
				StartsAt: now,
				EndsAt:   now.Add(time.Hour),
			})
		}
		want := alerts.Load() + int64(len(batch))
		d.Put(batch...)
		time.Sleep(time.Until(now.Add(groupWait)))
		b.StartTimer()
		deadline := time.Now().Add(time.Minute)
		for alerts.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d alerts arrived within a minute; failed flushes: %v", alerts.Load()-want+int64(len(batch)), len(batch), rec.failed)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(iter*deliveryGroups), "µs/notification")
}
