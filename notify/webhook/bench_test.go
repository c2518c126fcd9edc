package webhook

import (
	"context"
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
// whole pipeline to a webhook on loopback: dedup against the notification
// log (every group new, so always notified), the message, the POST, and the
// log write — to bbolt before Notify returns (log=sync), or in the
// background every 100ms as alertd runs it (log=async). It is the
// per-notification cost of delivery, over the webhook's own connections
// (client=direct) or net/http's client.
func BenchmarkPipelineWebhook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	for _, bc := range []struct {
		n      int
		async  bool
		client string
	}{{10, false, "direct"}, {10, true, "direct"}, {10, true, "net/http"}} {
		n := bc.n
		name := map[bool]string{false: "sync", true: "async"}[bc.async]
		// The default http_config posts directly; any other (here the zero
		// value) through net/http's client.
		hc := commoncfg.DefaultHTTPClientConfig
		if bc.client == "net/http" {
			hc = commoncfg.HTTPClientConfig{}
		}
		b.Run(fmt.Sprintf("alerts=%d/log=%s/client=%s", n, name, bc.client), func(b *testing.B) {
			st, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = st.Close() }()
			wh, err := New(0, Config{URL: srv.URL, SendResolved: true, HTTPConfig: hc}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			o := notify.Options{Receivers: map[string][]notify.Integration{"r": {wh}}, Store: st}
			if bc.async {
				o.LogFlushInterval = 100 * time.Millisecond
			}
			p, err := notify.New(o)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = p.Run(ctx)
			}()
			defer func() {
				cancel()
				<-done
			}()
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
