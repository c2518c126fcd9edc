package pagerduty_test

import (
	"testing"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/pagerdutytest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/pagerduty"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{Start: startReceiver})
}

// conformanceReceiver is the fake Events API, accepting the suite's secret
// as a routing key.
type conformanceReceiver struct {
	api *pagerdutytest.Server
}

func startReceiver(t *testing.T) notifytest.Receiver {
	api := pagerdutytest.Start(t)
	api.AcceptRoutingKey(notifytest.Secret)
	return &conformanceReceiver{api: api}
}

func (r *conformanceReceiver) Integration(t *testing.T, c notifytest.Config) notify.Integration {
	conf := pagerduty.Config{
		RoutingKey:   c.Secret,
		URL:          r.api.URL(),
		Timeout:      c.Timeout,
		SendResolved: true,
	}
	if c.BadTemplate {
		conf.Description = "{{ .NoSuchField }}"
	}
	n, err := pagerduty.New(0, conf, pagerduty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *conformanceReceiver) Answer(o ...notifytest.Outcome) { r.api.Answer(o...) }

func (r *conformanceReceiver) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, ev := range r.api.Events() {
		out = append(out, notifytest.Received{Resolved: ev.EventAction == pagerduty.ActionResolve, Text: ev.Payload.Summary})
	}
	return out
}

func (*conformanceReceiver) RetryAfter() bool { return true }
