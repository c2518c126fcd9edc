package flushlat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/grouping"
	"github.com/alertd/alertd/internal/pagerdutytest"
	"github.com/alertd/alertd/internal/slackapitest"
	"github.com/alertd/alertd/internal/smtptest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/email"
	"github.com/alertd/alertd/notify/pagerduty"
	"github.com/alertd/alertd/notify/slack"
	"github.com/alertd/alertd/notify/webhook"
)

// groups is how many aggregation groups are due at once.
const groups = 1000

const groupWait = 100 * time.Millisecond

// groupName matches the group label values of the benchmark, which every
// message carries (webhook groupLabels, email subject, Slack title,
// PagerDuty summary).
var groupName = regexp.MustCompile(`bench[0-9]+x[0-9]+`)

// arrival is when a receiver got the message of a group.
type arrival struct {
	group string
	at    time.Time
}

// receiver is one integration kind's fake remote end and the receiver
// configuration that delivers to it.
type receiver struct {
	config   string // the receiver's YAML, a list item of receivers
	arrivals func() []arrival
}

func webhookReceiver(b *testing.B) receiver {
	var (
		mu  sync.Mutex
		got []arrival
	)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, arrival{string(groupName.Find(body)), at})
		mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	return receiver{
		config: fmt.Sprintf(`{name: r, webhook_configs: [{url: %q}]}`, srv.URL+"/hook"),
		arrivals: func() []arrival {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(got)
		},
	}
}

func emailReceiver(b *testing.B) receiver {
	s := smtptest.Start(b, smtptest.Options{STARTTLS: true, Username: "alertd", Password: "bench-password"})
	return receiver{
		config: fmt.Sprintf(`{name: r, email_configs: [{to: ops@example.org, from: alertd@example.org, smarthost: %q,
  auth_username: alertd, auth_password: bench-password, tls_config: {ca_file: %q}}]}`, s.Addr(), s.CAFile()),
		arrivals: func() []arrival {
			var out []arrival
			for _, m := range s.Messages() {
				out = append(out, arrival{groupName.FindString(m.Subject), m.ReceivedAt})
			}
			return out
		},
	}
}

func slackReceiver(b *testing.B) receiver {
	s := slackapitest.Start(b, "xoxb-bench")
	return receiver{
		config: fmt.Sprintf(`{name: r, slack_configs: [{app_token: xoxb-bench, app_url: %q, channel: "#bench"}]}`, s.APIURL()+"chat.postMessage"),
		arrivals: func() []arrival {
			var out []arrival
			for _, c := range s.Calls() {
				if len(c.Attachments) == 1 {
					out = append(out, arrival{groupName.FindString(c.Attachments[0].Title), c.ReceivedAt})
				}
			}
			return out
		},
	}
}

func pagerdutyReceiver(b *testing.B) receiver {
	s := pagerdutytest.Start(b)
	return receiver{
		config: fmt.Sprintf(`{name: r, pagerduty_configs: [{routing_key: bench0routing0key000000000000001, url: %q}]}`, s.URL()),
		arrivals: func() []arrival {
			var out []arrival
			for _, e := range s.Events() {
				out = append(out, arrival{groupName.FindString(e.Payload.Summary), e.ReceivedAt})
			}
			return out
		},
	}
}

// recorder is the dispatcher's Notifier: the pipeline, plus an error
// count so that a failed flush fails the benchmark.
type recorder struct {
	p      *notify.Pipeline
	mu     sync.Mutex
	failed []error
}

func (r *recorder) Notify(ctx context.Context, n *alert.Notification) error {
	err := r.p.Notify(ctx, n)
	if err != nil {
		r.mu.Lock()
		r.failed = append(r.failed, err)
		r.mu.Unlock()
	}
	return err
}

// startDispatcher runs, until b ends, a dispatcher routing every alert to
// receiver (the YAML of one receivers item, named r) with group_by
// [group], group_wait groupWait and group_interval 1h, flushing through a
// pipeline that builds integrations of every kind.
func startDispatcher(b *testing.B, receiver string) (*grouping.Dispatcher, *recorder) {
	b.Helper()
	cfg, err := amconfig.Load(fmt.Sprintf("route: {receiver: r, group_by: [group], group_wait: %s, group_interval: 1h}\nreceivers:\n- %s\n",
		groupWait, receiver))
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := notify.LoadTemplates(nil)
	if err != nil {
		b.Fatal(err)
	}
	receivers, err := notify.BuildReceivers(cfg, notify.BuildOptions{
		Webhook:   webhook.Builder(webhook.Options{}),
		Email:     email.Builder(email.Options{Templates: tmpl}),
		Slack:     slack.Builder(slack.Options{Templates: tmpl}),
		PagerDuty: pagerduty.Builder(pagerduty.Options{Templates: tmpl}),
	})
	if err != nil {
		b.Fatal(err)
	}
	p, err := notify.New(notify.Options{Receivers: receivers})
	if err != nil {
		b.Fatal(err)
	}
	rec := &recorder{p: p}
	d := grouping.NewDispatcher(grouping.DispatcherOptions{Route: grouping.NewRoute(cfg.Route, nil), Notifier: rec})
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	return d, rec
}

// BenchmarkFlushToRequest puts one alert into each of 1,000 new groups at
// once and measures, for every group, the time from its flush being due
// (group_wait after the alert arrived) to its notification reaching the
// receiver: the scheduler, the flush queue (at most 64 flushes start at
// once), the pipeline, the template rendering and the integration's
// request, on loopback. It reports the 50th and 99th percentiles over
// every group of every iteration.
func BenchmarkFlushToRequest(b *testing.B) {
	for _, kind := range []struct {
		name  string
		start func(*testing.B) receiver
	}{
		{"webhook", webhookReceiver},
		{"email", emailReceiver},
		{"slack", slackReceiver},
		{"pagerduty", pagerdutyReceiver},
	} {
		b.Run("integration="+kind.name, func(b *testing.B) {
			rcv := kind.start(b)
			d, rec := startDispatcher(b, rcv.config)

			var latencies []time.Duration
			iter := 0
			for b.Loop() {
				iter++
				alerts := make([]*alert.Alert, groups)
				now := time.Now()
				for i := range alerts {
					alerts[i] = &alert.Alert{
						Labels:      labels.FromStrings("alertname", "Bench", "group", fmt.Sprintf("bench%dx%d", iter, i), "severity", "page"),
						Annotations: labels.FromStrings("summary", "load is high"),
						StartsAt:    now,
						EndsAt:      now.Add(time.Hour),
					}
				}
				before := len(rcv.arrivals())
				d.Put(alerts...)
				due := now.Add(groupWait)
				deadline := time.Now().Add(time.Minute)
				var got []arrival
				for {
					got = rcv.arrivals()[before:]
					if len(got) >= groups {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d notifications arrived within a minute; failed flushes: %v", len(got), groups, rec.failed)
					}
					time.Sleep(5 * time.Millisecond)
				}
				for _, a := range got {
					if a.group == "" {
						b.Fatal("a message without the group's name")
					}
					latencies = append(latencies, a.at.Sub(due))
				}
			}
			slices.Sort(latencies)
			pct := func(p float64) float64 {
				return float64(latencies[int(p*float64(len(latencies)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(latencies))/float64(iter), "groups/op")
		})
	}
}
