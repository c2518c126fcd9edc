package pagerduty

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	amconfig "github.com/prometheus/alertmanager/config"
	ampagerduty "github.com/prometheus/alertmanager/notify/pagerduty"
	amtemplate "github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/alertd/alertd/notify"
)

// Name is the integration kind, the integration label of the metrics.
const Name = "pagerduty"

// DefaultURL is the Events API v2 endpoint, Alertmanager's
// global.pagerduty_url default.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Event actions.
const (
	ActionTrigger = "trigger"
	ActionResolve = "resolve"
)

const (
	// MaxEventSize is the largest event PagerDuty accepts, in bytes, as
	// Alertmanager measures it.
	MaxEventSize = 512000
	// MaxSummaryRunes is the longest payload.summary.
	MaxSummaryRunes = 1024
	// DetailsRemoved is the custom details of an event that would have
	// exceeded MaxEventSize: Alertmanager's text (its "512KB" is
	// alecthomas/units' spelling of 512000 bytes).
	DetailsRemoved = "Custom details have been removed because the original event exceeds the maximum size of 512KB"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 16 << 10

// Config is one pagerduty_configs entry (Events API v2). An empty templated
// field means Alertmanager's default for it.
type Config struct {
	// RoutingKey is the integration key of the PagerDuty service, a
	// secret; it is templated. RoutingKeyFile, used when RoutingKey is
	// empty, holds it; it is read at every notification, so that the key
	// can be rotated without a reload. Exactly one must be set.
	RoutingKey     string
	RoutingKeyFile string
	// URL is where events are posted; empty means DefaultURL.
	URL string
	// HTTPConfig configures the client (auth, TLS, proxy, redirects).
	// Builder uses the entry's http_config, else the global one.
	HTTPConfig commoncfg.HTTPClientConfig

	// The templated fields of the event. Empty Client, ClientURL and
	// Description mean Alertmanager's default templates
	// ("pagerduty.default.client", …), empty Severity means "error" and
	// empty Source means Client.
	Client      string
	ClientURL   string
	Description string // payload.summary, cut to MaxSummaryRunes
	Severity    string
	Source      string
	Class       string
	Component   string
	Group       string
	// Details are payload.custom_details: Alertmanager's defaults
	// (firing, resolved, num_firing, num_resolved) for the keys it does
	// not set. Every string in it, and every key below the top level, is
	// templated; a value that renders to YAML structure (a list, a map, a
	// number) is sent as that structure.
	Details map[string]any
	// Images and Links are templated; those whose Src or Href renders
	// empty are dropped.
	Images []Image
	Links  []Link

	// Timeout bounds each request; zero means only the flush deadline.
	Timeout time.Duration
	// SendResolved says whether resolved alerts are sent (Alertmanager's
	// default for PagerDuty is true).
	SendResolved bool
}

// Image is an image of an event.
type Image struct {
	Src, Alt, Href string
}

// Link is a link of an event.
type Link struct {
	Href, Text string
}

// Options configure the notifiers New and Builder make. The zero value is
// valid.
type Options struct {
	// Templates renders the templated fields; nil means Alertmanager's
	// default templates only.
	Templates *notify.Templates
	// UserAgent is the requests' User-Agent; empty means
	// "alertd/<version>".
	UserAgent string
	// Logger receives the warnings about truncated summaries and removed
	// details; nil discards them.
	Logger *slog.Logger
}

// image and link are the JSON forms of Image and Link, Alertmanager's.
type image struct {
	Src  string `json:"src"`
	Alt  string `json:"alt"`
	Href string `json:"href"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Notifier is one PagerDuty integration.
type Notifier struct {
	idx       int
	conf      Config // with the defaults filled in
	url       *url.URL
	client    *http.Client
	tmpl      *notify.Templates
	userAgent string
	logger    *slog.Logger
}

var _ notify.Integration = (*Notifier)(nil)

// New builds the PagerDuty integration configured at index idx of its
// receiver's pagerduty_configs. Its errors never show the routing key.
func New(idx int, c Config, o Options) (*Notifier, error) {
	switch {
	case c.RoutingKey == "" && c.RoutingKeyFile == "":
		return nil, errors.New("missing routing_key or routing_key_file in PagerDuty config")
	case c.RoutingKey != "" && c.RoutingKeyFile != "":
		return nil, errors.New("at most one of routing_key & routing_key_file must be configured")
	case c.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %s", c.Timeout)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return nil, errors.New("url: invalid")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("url: scheme must be http or https")
	case u.Host == "":
		return nil, errors.New("url: no host")
	}

	def := ampagerduty.DefaultPagerdutyConfig
	c.Client = cmp.Or(c.Client, def.Client)
	c.ClientURL = cmp.Or(c.ClientURL, def.ClientURL)
	c.Description = cmp.Or(c.Description, def.Description)
	c.Severity = cmp.Or(c.Severity, "error")
	c.Source = cmp.Or(c.Source, c.Client)
	details := make(map[string]any, len(c.Details)+len(ampagerduty.DefaultPagerdutyDetails))
	maps.Copy(details, ampagerduty.DefaultPagerdutyDetails)
	maps.Copy(details, c.Details)
	c.Details = details

	client, err := commoncfg.NewClientFromConfig(c.HTTPConfig, Name)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	tmpl := o.Templates
	if tmpl == nil {
		if tmpl, err = notify.LoadTemplates(nil); err != nil {
			return nil, err
		}
	}
	ua := o.UserAgent
	if ua == "" {
		ua = version.ComponentUserAgent("alertd")
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{
		idx:       idx,
		conf:      c,
		url:       u,
		client:    client,
		tmpl:      tmpl,
		userAgent: ua,
		logger:    logger.With("component", "notify", "integration", fmt.Sprintf("%s[%d]", Name, idx)),
	}, nil
}

// Builder returns the notify.BuildFunc of pagerduty_configs entries, for
// notify.BuildOptions.PagerDuty. An entry with service_key or
// service_key_file (Events API v1) is an error.
func Builder(o Options) notify.BuildFunc {
	return func(rcv *amconfig.Receiver, idx int) (notify.Integration, error) {
		c := rcv.PagerdutyConfigs[idx]
		if c == nil {
			return nil, errors.New("missing pagerduty config")
		}
		if c.ServiceKey != "" || c.ServiceKeyFile != "" {
			return nil, errors.New("service_key and service_key_file (Events API v1) are not supported: use routing_key or routing_key_file (Events API v2)")
		}
		hc := commoncfg.DefaultHTTPClientConfig
		if c.HTTPConfig != nil {
			hc = *c.HTTPConfig
		}
		conf := Config{
			RoutingKey:     string(c.RoutingKey),
			RoutingKeyFile: c.RoutingKeyFile,
			HTTPConfig:     hc,
			Client:         c.Client,
			ClientURL:      c.ClientURL,
			Description:    c.Description,
			Severity:       c.Severity,
			Source:         c.Source,
			Class:          c.Class,
			Component:      c.Component,
			Group:          c.Group,
			Details:        c.Details,
			Timeout:        c.Timeout,
			SendResolved:   c.SendResolved(),
		}
		if c.URL != nil && c.URL.URL != nil {
			conf.URL = c.URL.String()
		}
		for _, im := range c.Images {
			conf.Images = append(conf.Images, Image{Src: im.Src, Alt: im.Alt, Href: im.Href})
		}
		for _, l := range c.Links {
			conf.Links = append(conf.Links, Link{Href: l.Href, Text: l.Text})
		}
		n, err := New(idx, conf, o)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
}

// Name returns "pagerduty".
func (*Notifier) Name() string { return Name }

// Index returns the integration's index in its receiver's
// pagerduty_configs.
func (n *Notifier) Index() int { return n.idx }

// SendResolved reports whether resolved alerts are sent.
func (n *Notifier) SendResolved() bool { return n.conf.SendResolved }

// DedupKey returns the dedup_key of a group's events: the hex SHA-256 of
// its key, as Alertmanager's notify.Key.Hash, so that an incident opened
// by an Alertmanager is updated and resolved by alertd.
func DedupKey(groupKey string) string {
	h := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(h[:])
}

// Notify sends d as one event: "trigger" if any alert fires, else
// "resolve". Template errors, an empty routing key and PagerDuty's
// refusals are permanent; network errors, 5xx and 429 answers are
// retryable.
func (n *Notifier) Notify(ctx context.Context, d *notify.Data) (bool, error) {
	if d == nil {
		return false, errors.New("no notification data")
	}
	key, err := n.routingKey()
	if err != nil {
		return false, err
	}
	ev, err := n.event(d, key)
	if err != nil {
		return false, notify.Redact(err, key)
	}
	retry, err := n.send(ctx, ev)
	return retry, notify.Redact(err, key, ev.RoutingKey)
}

// routingKey returns the configured routing key (a template), reading
// routing_key_file if that is how it is given.
func (n *Notifier) routingKey() (string, error) {
	if n.conf.RoutingKey != "" {
		return n.conf.RoutingKey, nil
	}
	return notify.ReadSecretFile(n.conf.RoutingKeyFile, "routing_key_file")
}

// event renders the event of d, its routing key templated from key.
func (n *Notifier) event(d *notify.Data, key string) (*pd.V2Event, error) {
	e := n.tmpl.Expander(d)
	c := &n.conf

	details := make(map[string]any, len(c.Details))
	for k, v := range c.Details {
		field := "details." + k
		// Its only errors are the Expander's, checked below. As in
		// Alertmanager, the top-level keys are not templated.
		details[k], _ = amtemplate.DeepCopyWithTemplate(v, func(s string) (string, error) {
			out := e.Text(field, s)
			return out, e.Err()
		})
	}
	action := ActionTrigger
	if d.Status == notify.StatusResolved {
		action = ActionResolve
	}
	dedupKey := DedupKey(d.GroupKey)
	summary, truncated := notify.TruncateRunes(e.Text("description", c.Description), MaxSummaryRunes)
	ev := &pd.V2Event{
		RoutingKey: e.Text("routing_key", key),
		Action:     action,
		DedupKey:   dedupKey,
		Client:     e.Text("client", c.Client),
		ClientURL:  e.Text("client_url", c.ClientURL),
		Payload: &pd.V2Payload{
			Summary:   summary,
			Source:    e.Text("source", c.Source),
			Severity:  e.Text("severity", c.Severity),
			Class:     e.Text("class", c.Class),
			Component: e.Text("component", c.Component),
			Group:     e.Text("group", c.Group),
			Details:   details,
		},
	}
	for i, im := range c.Images {
		img := image{
			Src:  e.Text(fmt.Sprintf("images[%d].src", i), im.Src),
			Alt:  e.Text(fmt.Sprintf("images[%d].alt", i), im.Alt),
			Href: e.Text(fmt.Sprintf("images[%d].href", i), im.Href),
		}
		if img.Src != "" {
			ev.Images = append(ev.Images, img)
		}
	}
	for i, l := range c.Links {
		lk := link{
			Href: e.Text(fmt.Sprintf("links[%d].href", i), l.Href),
			Text: e.Text(fmt.Sprintf("links[%d].text", i), l.Text),
		}
		if lk.Href != "" {
			ev.Links = append(ev.Links, lk)
		}
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	if ev.RoutingKey == "" {
		return nil, errors.New("routing key cannot be empty")
	}
	if truncated {
		n.logger.Warn("truncated summary", "dedup_key", dedupKey, "max_runes", MaxSummaryRunes)
	}

	// Alertmanager measures the event as json.Encoder writes it, with a
	// trailing newline; the keys are the same, in another order.
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode PagerDuty event: %w", err)
	}
	if size := len(b) + 1; size > MaxEventSize {
		ev.Payload.Details = map[string]any{"error": DetailsRemoved}
		n.logger.Warn("removed custom details of an event over the size limit",
			"dedup_key", dedupKey, "size_bytes", size, "limit_bytes", MaxEventSize)
	}
	return ev, nil
}

// send posts ev and classifies the outcome.
func (n *Notifier) send(ctx context.Context, ev *pd.V2Event) (bool, error) {
	if n.conf.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.conf.Timeout, fmt.Errorf("configured pagerduty timeout reached (%s)", n.conf.Timeout))
		defer cancel()
	}
	ex := &exchange{client: n.client, url: n.url, userAgent: n.userAgent}
	// go-pagerduty posts to its endpoint + "/v2/enqueue"; exchange.Do
	// replaces that with the configured URL.
	c := pd.NewClient("", pd.WithV2EventsAPIEndpoint(n.url.Scheme+"://"+n.url.Host))
	c.HTTPClient = ex
	_, err := c.ManageEventWithContext(ctx, ev)
	switch {
	case ex.err != nil:
		err := fmt.Errorf("post event to PagerDuty: %w", ex.err)
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
		}
		return true, err
	case ex.resp == nil:
		// Never sent: the request could not be built.
		if err == nil {
			err = errors.New("no request made")
		}
		return false, fmt.Errorf("post event to PagerDuty: %w", err)
	case ex.resp.StatusCode/100 == 2:
		// Accepted, whatever go-pagerduty made of the answer's body.
		return false, nil
	}
	return notify.CheckResponse(&http.Response{
		StatusCode: ex.resp.StatusCode,
		Header:     ex.resp.Header,
		Body:       io.NopCloser(strings.NewReader(errorDetails(ex.body))),
	})
}

// errorDetails returns what an error answer says: PagerDuty's message and
// errors as Alertmanager shows them ("message: error1,error2", without
// the colon when there are no errors), else the body itself.
func errorDetails(body []byte) string {
	var pgr struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if err := json.Unmarshal(body, &pgr); err != nil || (pgr.Message == "" && len(pgr.Errors) == 0) {
		return string(body)
	}
	if len(pgr.Errors) == 0 {
		return pgr.Message
	}
	return fmt.Sprintf("%s: %s", pgr.Message, strings.Join(pgr.Errors, ","))
}

// exchange is the pd.HTTPClient of one event: it sends go-pagerduty's
// request to the configured URL with alertd's User-Agent and keeps the
// answer's status, headers and (for an error) the start of its body, or
// the transport's error.
type exchange struct {
	client    *http.Client
	url       *url.URL
	userAgent string

	resp *http.Response
	body []byte
	err  error
}

// Do sends req, go-pagerduty's request.
func (x *exchange) Do(req *http.Request) (*http.Response, error) {
	u := *x.url
	req.URL = &u
	req.Host = u.Host
	req.Header.Set("User-Agent", x.userAgent)
	resp, err := x.client.Do(req)
	if err != nil {
		x.err = err
		return nil, err
	}
	x.resp = resp
	if resp.StatusCode/100 != 2 {
		x.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(x.body))
	}
	return resp, nil
}
