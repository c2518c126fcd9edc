package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/alertd/alertd/notify"
)

// Name is the integration kind, the integration label of the metrics.
const Name = "slack"

// DefaultAppURL is app_url's default: where Alertmanager posts with a bot
// token. The Web API's base URL is app_url without its last path element.
const DefaultAppURL = "https://slack.com/api/chat.postMessage"

// Config is one slack_configs entry. Its templated fields are Go text
// templates rendered with Alertmanager's template data; DefaultConfig
// holds Alertmanager's defaults.
type Config struct {
	// APIURL is an incoming webhook's URL. It is a secret: errors and
	// logs never show more than its scheme and host.
	APIURL string
	// APIURLFile, used instead of APIURL, holds the URL; it is read at
	// every notification, so that it can be rotated without a reload.
	APIURLFile string
	// AppToken is a bot token (xoxb-…), a secret, used instead of an
	// incoming webhook to call chat.postMessage and chat.update.
	AppToken string
	// AppTokenFile, used instead of AppToken, holds the token; it is read
	// at every notification.
	AppTokenFile string
	// AppURL is the bot token's chat.postMessage URL; empty means
	// DefaultAppURL. Its last path element is replaced by the name of
	// each Web API method called.
	AppURL string
	// HTTPConfig configures the client (TLS, proxy, redirects). With a
	// bot token it must not set authorization.
	HTTPConfig commoncfg.HTTPClientConfig

	// Channel overrides the incoming webhook's channel; with a bot token
	// it is the channel (#name or ID) to post to.
	Channel     string
	Username    string
	IconEmoji   string
	IconURL     string
	LinkNames   bool
	MessageText string // the message's top-level text

	// The attachment's fields.
	Color      string
	Title      string // truncated to 1024 runes
	TitleLink  string
	Pretext    string
	Text       string
	Fallback   string
	CallbackID string
	Fields     []Field
	// ShortFields is the short of fields that do not set it.
	ShortFields bool
	Actions     []Action
	ImageURL    string
	ThumbURL    string
	Footer      string
	// MrkdwnIn names the fields Slack formats; empty means fallback,
	// pretext and text, as in Alertmanager.
	MrkdwnIn []string

	// Timeout bounds each request; zero means only the flush deadline.
	Timeout time.Duration
	// SendResolved says whether resolved alerts are sent (Alertmanager's
	// default for Slack is false).
	SendResolved bool
}

// Field is one of the attachment's fields. Title and Value are templated.
type Field struct {
	Title, Value string
	// Short nil means Config.ShortFields.
	Short *bool
}

// Action is one of the attachment's buttons: a link button (URL) or a
// message button (Name and Value). All its strings are templated.
type Action struct {
	Type, Text, URL, Style, Name, Value string
	Confirm                             *Confirm
}

// Confirm is an action's confirmation dialog. Its strings are templated.
type Confirm struct {
	Title, Text, OkText, DismissText string
}

// DefaultConfig returns a Config with Alertmanager's defaults: its default
// templates, DefaultAppURL and prometheus/common's default HTTP client
// configuration. It has no URL nor token.
func DefaultConfig() Config {
	d := amconfig.DefaultSlackConfig
	return Config{
		AppURL:       DefaultAppURL,
		HTTPConfig:   commoncfg.DefaultHTTPClientConfig,
		Username:     d.Username,
		IconEmoji:    d.IconEmoji,
		IconURL:      d.IconURL,
		Color:        d.Color,
		Title:        d.Title,
		TitleLink:    d.TitleLink,
		Pretext:      d.Pretext,
		Text:         d.Text,
		Fallback:     d.Fallback,
		CallbackID:   d.CallbackID,
		Footer:       d.Footer,
		SendResolved: d.SendResolved(),
	}
}

// Options configure the Slack integrations New and Builder make. The zero
// value is valid.
type Options struct {
	// Templates render the messages; nil means Alertmanager's default
	// templates only.
	Templates *notify.Templates
	// UserAgent is the requests' User-Agent; empty means
	// "alertd/<version>".
	UserAgent string
}

// Notifier is one Slack integration. With a bot token it is a
// notify.Stateful that edits the message of an open incident.
type Notifier struct {
	idx       int
	c         Config
	bot       bool
	apiBase   string // the Web API's base URL, with a bot token
	client    *http.Client
	tmpl      *notify.Templates
	userAgent string
}

var (
	_ notify.Integration = (*Notifier)(nil)
	_ notify.Stateful    = (*Notifier)(nil)
)

// New builds the Slack integration configured at index idx of its
// receiver's slack_configs. Its errors never show the URL or the token.
func New(idx int, c Config, o Options) (*Notifier, error) {
	hook := c.APIURL != "" || c.APIURLFile != ""
	bot := c.AppToken != "" || c.AppTokenFile != ""
	switch {
	case !hook && !bot:
		return nil, errors.New("one of api_url, api_url_file, app_token or app_token_file must be configured")
	case c.APIURL != "" && c.APIURLFile != "":
		return nil, errors.New("at most one of api_url & api_url_file must be configured")
	case c.AppToken != "" && c.AppTokenFile != "":
		return nil, errors.New("at most one of app_token & app_token_file must be configured")
	case hook && bot:
		return nil, errors.New("at most one of api_url/api_url_file & app_token/app_token_file must be configured")
	case bot && c.HTTPConfig.Authorization != nil:
		return nil, errors.New("http_config: authorization can't be set when using Slack App tokens")
	case c.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %s", c.Timeout)
	}
	if c.APIURL != "" {
		if err := notify.CheckURL(c.APIURL); err != nil {
			return nil, fmt.Errorf("api_url: %w", err)
		}
	}
	n := &Notifier{idx: idx, c: c, bot: bot, tmpl: o.Templates, userAgent: o.UserAgent}
	if bot {
		base, err := apiBase(c.AppURL)
		if err != nil {
			return nil, fmt.Errorf("app_url: %w", err)
		}
		n.apiBase = base
	}
	for i, f := range c.Fields {
		if f.Title == "" || f.Value == "" {
			return nil, fmt.Errorf("fields[%d]: title and value are required", i)
		}
	}
	for i, a := range c.Actions {
		switch {
		case a.Type == "" || a.Text == "":
			return nil, fmt.Errorf("actions[%d]: type and text are required", i)
		case a.URL == "" && a.Name == "":
			return nil, fmt.Errorf("actions[%d]: one of url or name is required", i)
		}
	}
	if len(n.c.MrkdwnIn) == 0 {
		n.c.MrkdwnIn = []string{"fallback", "pretext", "text"}
	}
	if n.tmpl == nil {
		t, err := notify.LoadTemplates(nil)
		if err != nil {
			return nil, err
		}
		n.tmpl = t
	}
	if n.userAgent == "" {
		n.userAgent = version.ComponentUserAgent("alertd")
	}
	client, err := commoncfg.NewClientFromConfig(c.HTTPConfig, Name)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	n.client = client
	return n, nil
}

// Builder returns the notify.BuildFunc of slack_configs entries, for
// notify.BuildOptions.Slack.
func Builder(o Options) notify.BuildFunc {
	return func(rcv *amconfig.Receiver, idx int) (notify.Integration, error) {
		sc := rcv.SlackConfigs[idx]
		if sc == nil {
			return nil, errors.New("missing slack config")
		}
		hc := commoncfg.DefaultHTTPClientConfig
		if sc.HTTPConfig != nil {
			hc = *sc.HTTPConfig
		}
		c := Config{
			HTTPConfig:   hc,
			Channel:      sc.Channel,
			Username:     sc.Username,
			IconEmoji:    sc.IconEmoji,
			IconURL:      sc.IconURL,
			LinkNames:    sc.LinkNames,
			MessageText:  sc.MessageText,
			Color:        sc.Color,
			Title:        sc.Title,
			TitleLink:    sc.TitleLink,
			Pretext:      sc.Pretext,
			Text:         sc.Text,
			Fallback:     sc.Fallback,
			CallbackID:   sc.CallbackID,
			ShortFields:  sc.ShortFields,
			ImageURL:     sc.ImageURL,
			ThumbURL:     sc.ThumbURL,
			Footer:       sc.Footer,
			MrkdwnIn:     sc.MrkdwnIn,
			Timeout:      sc.Timeout,
			SendResolved: sc.SendResolved(),
		}
		if sc.AppToken != "" || sc.AppTokenFile != "" {
			// Alertmanager's configuration turns the token into http_config's
			// authorization and api_url into app_url; the token is sent by
			// this package.
			c.AppToken, c.AppTokenFile = string(sc.AppToken), sc.AppTokenFile
			c.HTTPConfig.Authorization = nil
			c.AppURL = DefaultAppURL
			if sc.AppURL != nil && sc.AppURL.URL != nil {
				c.AppURL = sc.AppURL.String()
			}
		} else {
			c.APIURLFile = sc.APIURLFile
			if sc.APIURL != nil && sc.APIURL.URL != nil {
				c.APIURL = sc.APIURL.String()
			}
		}
		for _, f := range sc.Fields {
			if f != nil {
				c.Fields = append(c.Fields, Field{Title: f.Title, Value: f.Value, Short: f.Short})
			}
		}
		for _, a := range sc.Actions {
			if a == nil {
				continue
			}
			ac := Action{Type: a.Type, Text: a.Text, URL: a.URL, Style: a.Style, Name: a.Name, Value: a.Value}
			if cf := a.ConfirmField; cf != nil {
				ac.Confirm = &Confirm{Title: cf.Title, Text: cf.Text, OkText: cf.OkText, DismissText: cf.DismissText}
			}
			c.Actions = append(c.Actions, ac)
		}
		n, err := New(idx, c, o)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
}

// Name returns "slack".
func (n *Notifier) Name() string { return Name }

// Index returns the integration's index in its receiver's slack_configs.
func (n *Notifier) Index() int { return n.idx }

// SendResolved reports whether resolved alerts are sent.
func (n *Notifier) SendResolved() bool { return n.c.SendResolved }

// Notify posts d as a new message: to the incoming webhook, or with
// chat.postMessage. Network errors, 5xx and 429 answers are retryable;
// Slack's refusals ({"ok":false,…}, other 4xx) and template errors are
// not.
func (n *Notifier) Notify(ctx context.Context, d *notify.Data) (bool, error) {
	m, err := n.render(d)
	if err != nil {
		return false, err
	}
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	if !n.bot {
		return n.postWebhook(ctx, m)
	}
	_, retry, err := n.sendBot(ctx, m, nil)
	return retry, err
}

// NotifyState is Notify for a bot token given the state of the group's
// message: it edits the message of an open incident (chat.update) and
// posts a new one (chat.postMessage) otherwise, returning the state of
// the message sent. With an incoming webhook it is Notify and keeps no
// state.
func (n *Notifier) NotifyState(ctx context.Context, d *notify.Data, prev []byte) ([]byte, bool, error) {
	if !n.bot {
		retry, err := n.Notify(ctx, d)
		return nil, retry, err
	}
	m, err := n.render(d)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	var st *state
	if prev != nil {
		st = new(state)
		if json.Unmarshal(prev, st) != nil || st.Channel == "" || st.TS == "" {
			st = nil // unreadable: post a new message
		}
	}
	if st != nil && !n.continues(st, m) {
		st = nil
	}
	next, retry, err := n.sendBot(ctx, m, st)
	if err != nil || next == nil {
		return nil, retry, err
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, false, fmt.Errorf("encode slack message state: %w", err)
	}
	return b, false, nil
}

// state is what a bot token's integration keeps per group: the message
// to edit.
type state struct {
	Channel string `json:"channel"` // the channel's ID
	TS      string `json:"ts"`
	// Closed says that the message announced the group's resolution.
	Closed bool `json:"closed,omitempty"`
	// Newest is the latest start of the alerts the message showed.
	Newest time.Time `json:"newest,omitzero"`
}

// continues reports whether m belongs to the incident of the message st
// describes, and so edits it.
func (n *Notifier) continues(st *state, m *message) bool {
	if st.Closed {
		// Only a resolution may edit a resolved message; a firing
		// notification opens a new incident.
		return m.resolved
	}
	if !n.c.SendResolved && !st.Newest.IsZero() && m.oldest.After(st.Newest) {
		// The group's resolution was not sent: alerts that all started
		// after those of the message make a new incident.
		return false
	}
	return true
}

func (n *Notifier) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if n.c.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, n.c.Timeout, fmt.Errorf("configured slack timeout reached (%s)", n.c.Timeout))
}

// readSecret returns value, or the trimmed content of file.
func readSecret(value, file, what string) (string, error) {
	if file == "" {
		return value, nil
	}
	s, err := notify.ReadSecretFile(file, what+"_file")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("%s_file is empty", what)
	}
	return s, nil
}

// apiBase returns the Web API's base URL of app_url: app_url without its
// last path element.
func apiBase(appURL string) (string, error) {
	if appURL == "" {
		appURL = DefaultAppURL
	}
	u, err := url.Parse(appURL)
	if err != nil {
		return "", errors.New("invalid url")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	u.Path = u.Path[:strings.LastIndex(u.Path, "/")+1]
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}
