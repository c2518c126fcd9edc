package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alertd/alertd/notify"
)

var _ notify.Renderer = (*Notifier)(nil)

// Render returns the event Notify would post for d: the Events API v2
// JSON body, as go-pagerduty encodes it. The routing key is in its
// Secrets. Its fields are "event_action", "dedup_key", "client",
// "client_url", the payload's "summary", "source", "severity", "class",
// "component" and "group", and "custom_details" (as JSON).
func (n *Notifier) Render(d *notify.Data, _ time.Time) (*notify.Rendered, error) {
	if d == nil {
		return nil, errors.New("no notification data")
	}
	key, err := n.routingKey()
	if err != nil {
		return nil, err
	}
	ev, err := n.event(d, key)
	if err != nil {
		return nil, notify.Redact(err, key)
	}
	secrets := []string{key, ev.RoutingKey}
	// go-pagerduty's ManageEventWithContext sends json.Marshal of the event.
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, notify.Redact(fmt.Errorf("encode PagerDuty event: %w", err), secrets...)
	}
	details, err := json.Marshal(ev.Payload.Details)
	if err != nil {
		return nil, notify.Redact(fmt.Errorf("encode PagerDuty custom details: %w", err), secrets...)
	}
	p := ev.Payload
	return &notify.Rendered{
		ContentType: "application/json",
		Body:        body,
		Fields: map[string]string{
			"event_action":   ev.Action,
			"dedup_key":      ev.DedupKey,
			"client":         ev.Client,
			"client_url":     ev.ClientURL,
			"summary":        p.Summary,
			"source":         p.Source,
			"severity":       p.Severity,
			"class":          p.Class,
			"component":      p.Component,
			"group":          p.Group,
			"custom_details": string(details),
		},
		Secrets: secrets,
	}, nil
}
