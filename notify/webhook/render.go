package webhook

import (
	"strconv"
	"time"

	"github.com/alertd/alertd/notify"
)

var _ notify.Renderer = (*Notifier)(nil)

// Render returns the body Notify would post for d: the Message JSON, d
// truncated to max_alerts. Its fields are "status", "alerts" (how many
// the message holds) and "truncatedAlerts". The URL is not shown.
func (n *Notifier) Render(d *notify.Data, _ time.Time) (*notify.Rendered, error) {
	d = d.Truncate(n.maxAlerts)
	return &notify.Rendered{
		ContentType: "application/json",
		Body:        messageBody(d),
		Fields: map[string]string{
			"status":          d.Status,
			"alerts":          strconv.Itoa(len(d.Alerts)),
			"truncatedAlerts": strconv.Itoa(d.TruncatedAlerts),
		},
	}, nil
}

// messageBody is the request body of d, already truncated.
func messageBody(d *notify.Data) []byte {
	return appendMessage(make([]byte, 0, 512+512*len(d.Alerts)), d)
}
