package unittest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Router routes an alert through alertd's configuration and renders the
// notifications its receivers would send, sending nothing. exp_notifications
// assertions run on it.
type Router interface {
	// Route returns the notifications for a firing alert with these labels
	// (external labels included) and annotations, in routing order: the
	// receivers of every matching route, and within a receiver its
	// integrations in configuration order.
	Route(labels, annotations map[string]string) ([]Delivery, error)
}

// Delivery is one notification an integration would send.
type Delivery struct {
	// Receiver is the receiver's name.
	Receiver string
	// Integration is "email", "slack", "pagerduty" or "webhook".
	Integration string
	// Index is the position of the integration among the receiver's
	// configurations of that kind (its slack_configs, ...).
	Index int
	// Fields are the rendered parts of the message, by name: "title" and
	// "text" for Slack, "subject", "html" and "text" for email, "summary"
	// for PagerDuty.
	Fields map[string]string
}

// errNoRouter is the error of a file with route assertions when the caller
// gave no router.
var errNoRouter = errors.New("route assertions (config_file, exp_notifications) are not available: this build has no router")

// checkNotification checks one exp_notifications item against the firing
// alerts of its alertname: it selects the alert whose labels are exactly
// alertname plus exp_labels, routes it, and compares what is given.
func checkNotification(r Router, extLabels labels.Labels, alertname string, evalTime model.Duration, n *expNotification, firing []firingAlert) error {
	m := make(map[string]string, len(n.ExpLabels)+1)
	for k, v := range n.ExpLabels {
		m[k] = v
	}
	m[labels.AlertName] = alertname
	want := labels.FromMap(m)
	head := fmt.Sprintf("    alertname: %s, time: %s, notification for %s:", alertname, evalTime, want)
	i := slices.IndexFunc(firing, func(a firingAlert) bool { return labels.Equal(a.labels, want) })
	if i < 0 {
		got := make([]string, len(firing))
		for j, a := range firing {
			got[j] = a.labels.String()
		}
		return fmt.Errorf("%s\n        no firing alert has these labels; firing: [%s]", head, strings.Join(got, ", "))
	}
	a := firing[i]
	// The alert as it reaches routing: with the external labels it lacks,
	// as Prometheus and alertd send it.
	lm := a.labels.Map()
	extLabels.Range(func(l labels.Label) {
		if _, ok := lm[l.Name]; !ok {
			lm[l.Name] = l.Value
		}
	})
	deliveries, err := r.Route(lm, a.annotations.Map())
	if err != nil {
		return fmt.Errorf("%s\n        route: %w", head, err)
	}
	var problems []string
	if n.Receivers != nil {
		got := receivers(deliveries)
		if !slices.Equal(got, n.Receivers) {
			problems = append(problems, fmt.Sprintf("receivers: exp %s, got %s", quoteList(n.Receivers), quoteList(got)))
		}
	}
	for _, c := range n.checks() {
		j := slices.IndexFunc(deliveries, func(d Delivery) bool { return d.Integration == c.integration })
		if j < 0 {
			problems = append(problems, fmt.Sprintf("%s %s: exp %q, got no %s notification", c.integration, c.field, c.want, c.integration))
			continue
		}
		got, ok := deliveries[j].Fields[c.field]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s (receiver %q): exp %q, got no such field", c.integration, c.field, deliveries[j].Receiver, c.want))
		case got != c.want:
			problems = append(problems, fmt.Sprintf("%s %s (receiver %q):\n            exp: %q\n            got: %q", c.integration, c.field, deliveries[j].Receiver, c.want, got))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s\n        %s", head, strings.Join(problems, "\n        "))
}

// receivers returns the receivers of deliveries, each once, in order.
func receivers(ds []Delivery) []string {
	out := []string{}
	for _, d := range ds {
		if !slices.Contains(out, d.Receiver) {
			out = append(out, d.Receiver)
		}
	}
	return out
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// firingAlert is a firing alert of the rules under test.
type firingAlert struct {
	labels, annotations labels.Labels
}
