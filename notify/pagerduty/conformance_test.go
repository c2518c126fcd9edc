package pagerduty_test

import (
	"testing"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/pagerduty"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{Start: startReceiver})
}

// conformanceReceiver is the fake Events API, accepting the suite's secret
// as a routing key.
type conformanceReceiver struct {
	api *eventsAPI
}

func startReceiver(t *testing.T) notifytest.Receiver {
	return &conformanceReceiver{api: newEventsAPI(t, notifytest.Secret)}
}

func (r *conformanceReceiver) Integration(t *testing.T, c notifytest.Config) notify.Integration {
	conf := pagerduty.Config{
		RoutingKey:   c.Secret,
		URL:          r.api.url(),
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

func (r *conformanceReceiver) Answer(o ...notifytest.Outcome) { r.api.answer(o...) }

func (r *conformanceReceiver) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, req := range r.api.events() {
		rc := notifytest.Received{Resolved: req.event.EventAction == pagerduty.ActionResolve}
		if req.event.Payload != nil {
			rc.Text = req.event.Payload.Summary
		}
		out = append(out, rc)
	}
	return out
}

func (*conformanceReceiver) RetryAfter() bool { return true }
