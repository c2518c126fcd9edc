package webhook

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/store"
)

// BenchmarkPipelineWebhook is one group flush of n alerts through the
// whole pipeline to a webhook on loopback: dedup against the bbolt log
// (every group new, so always notified), the message, the POST, and the
// log write. It is the per-notification cost of delivery.
func BenchmarkPipelineWebhook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	for _, n := range []int{10} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			st, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = st.Close() }()
			wh, err := New(0, Config{URL: srv.URL, SendResolved: true, HTTPConfig: commoncfg.DefaultHTTPClientConfig}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			p, err := notify.New(notify.Options{Receivers: map[string][]notify.Integration{"r": {wh}}, Store: st})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			alerts := make([]*alert.Alert, n)
			for i := range alerts {
				alerts[i] = &alert.Alert{
					Labels:      labels.FromStrings("alertname", "Load", "group", "g", "instance", fmt.Sprint("i", i)),
					Annotations: labels.FromStrings("summary", "load is high"),
					StartsAt:    now,
				}
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				key := fmt.Sprintf(`{}:{group="g%d"}`, i)
				if err := p.Notify(b.Context(), &alert.Notification{
					GroupKey: key, GroupLabels: labels.FromStrings("group", fmt.Sprint("g", i)), Receiver: "r",
					RepeatInterval: time.Hour, Now: now, Alerts: alerts,
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
