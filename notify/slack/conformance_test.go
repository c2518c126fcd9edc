package slack_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/slackapitest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/slack"
)

func TestConformance(t *testing.T) {
	t.Run("incoming webhook", func(t *testing.T) {
		notifytest.Run(t, notifytest.Harness{Start: func(t *testing.T) notifytest.Receiver {
			return &conformanceReceiver{f: slackapitest.Start(t, notifytest.Secret)}
		}})
	})
	t.Run("bot token", func(t *testing.T) {
		notifytest.Run(t, notifytest.Harness{Start: func(t *testing.T) notifytest.Receiver {
			return &conformanceReceiver{f: slackapitest.Start(t, notifytest.Secret), bot: true}
		}})
	})
}

// conformanceReceiver is the fake Slack, reached through an incoming
// webhook whose path holds the secret, or with the secret as bot token.
type conformanceReceiver struct {
	f   *slackapitest.Server
	bot bool
}

func (r *conformanceReceiver) Integration(t *testing.T, c notifytest.Config) notify.Integration {
	cfg := slack.DefaultConfig()
	cfg.Channel = "#alerts"
	cfg.Timeout = c.Timeout
	cfg.SendResolved = true
	if r.bot {
		cfg.AppToken, cfg.AppURL = c.Secret, r.f.APIURL()+"chat.postMessage"
	} else {
		cfg.APIURL = r.f.HookURL(c.Secret)
	}
	if c.BadTemplate {
		cfg.Title = "{{ .NoSuchField }}"
	}
	r.f.SetSecret(c.Secret)
	n, err := slack.New(0, cfg, slack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *conformanceReceiver) Answer(o ...notifytest.Outcome) {
	for _, o := range o {
		switch o {
		case notifytest.OK:
			r.f.Answer(nil)
		case notifytest.Transient:
			r.f.Answer(slackapitest.Status(http.StatusServiceUnavailable, "try later"))
		case notifytest.RateLimited:
			r.f.Answer(slackapitest.Status(http.StatusTooManyRequests, "slow down", "Retry-After", strconv.Itoa(int(notifytest.RetryAfter.Seconds()))))
		case notifytest.Permanent:
			r.f.Answer(slackapitest.Status(http.StatusBadRequest, notifytest.PermanentBody))
		case notifytest.Hang:
			r.f.Answer(slackapitest.Hang)
		}
	}
}

func (r *conformanceReceiver) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, c := range r.f.Requests() {
		if !c.Accepted || len(c.Attachments) != 1 {
			continue
		}
		a := c.Attachments[0]
		out = append(out, notifytest.Received{Resolved: a.Color == "good", Text: a.Title + "\n" + a.Text})
	}
	return out
}

func (*conformanceReceiver) RetryAfter() bool { return true }
