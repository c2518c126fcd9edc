package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/alertd/alertd/notify"
)

// Name is the integration kind, the integration label of the metrics.
const Name = "webhook"

// Version is the version of the webhook message, Alertmanager's.
const Version = "4"

// Config is one webhook_configs entry.
type Config struct {
	// URL is where the message is posted. It is a secret: errors and logs
	// show only its scheme and host.
	URL string
	// URLFile, used when URL is empty, holds the URL; it is read at every
	// notification, so that the URL can be rotated without a reload.
	URLFile string
	// HTTPConfig configures the client (auth, TLS, proxy, redirects).
	// Its zero value does not follow redirects; Builder uses
	// prometheus/common's DefaultHTTPClientConfig, as Alertmanager does,
	// when the entry has none.
	HTTPConfig commoncfg.HTTPClientConfig
	// MaxAlerts bounds the alerts of a message; zero means no limit.
	MaxAlerts uint64
	// Timeout bounds each request; zero means only the flush deadline.
	Timeout time.Duration
	// SendResolved says whether resolved alerts are sent (Alertmanager's
	// default for webhooks is true).
	SendResolved bool
}

// Options configure the webhooks New and Builder make. The zero value is
// valid.
type Options struct {
	// UserAgent is the requests' User-Agent; empty means
	// "alertd/<version>".
	UserAgent string
}

// Message is the JSON body of a request: Alertmanager's webhook.Message.
// Version, GroupKey and TruncatedAlerts are declared here, after the
// embedded data, so that the keys come in Alertmanager's order.
type Message struct {
	*notify.Data

	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts int    `json:"truncatedAlerts"`
}

// Notifier is one webhook integration.
type Notifier struct {
	idx          int
	url          string
	urlFile      string
	maxAlerts    int
	timeout      time.Duration
	sendResolved bool
	client       *http.Client
	direct       *direct // nil: every request through client
	userAgent    string
}

var _ notify.AlertsIntegration = (*Notifier)(nil)

// New builds the webhook configured at index idx of its receiver's
// webhook_configs. Its errors never show the URL.
func New(idx int, c Config, o Options) (*Notifier, error) {
	switch {
	case c.URL == "" && c.URLFile == "":
		return nil, errors.New("one of url or url_file must be configured")
	case c.URL != "" && c.URLFile != "":
		return nil, errors.New("at most one of url & url_file must be configured")
	case c.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %s", c.Timeout)
	}
	if c.URL != "" {
		if strings.Contains(c.URL, "{{") {
			return nil, errors.New("url: templates in the url are not supported yet")
		}
		if err := checkURL(c.URL); err != nil {
			return nil, err
		}
	}
	client, err := commoncfg.NewClientFromConfig(c.HTTPConfig, Name)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	maxAlerts := math.MaxInt
	if c.MaxAlerts > 0 && c.MaxAlerts < math.MaxInt {
		maxAlerts = int(c.MaxAlerts)
	}
	ua := o.UserAgent
	if ua == "" {
		ua = version.ComponentUserAgent("alertd")
	}
	return &Notifier{
		idx:          idx,
		url:          c.URL,
		urlFile:      c.URLFile,
		maxAlerts:    maxAlerts,
		timeout:      c.Timeout,
		sendResolved: c.SendResolved,
		client:       client,
		direct:       newDirect(c.URL, c.HTTPConfig, ua),
		userAgent:    ua,
	}, nil
}

// Builder returns the notify.BuildFunc of webhook_configs entries, for
// notify.BuildOptions.Webhook.
func Builder(o Options) notify.BuildFunc {
	return func(rcv *amconfig.Receiver, idx int) (notify.Integration, error) {
		c := rcv.WebhookConfigs[idx]
		if c == nil {
			return nil, errors.New("missing webhook config")
		}
		if c.Payload != nil {
			return nil, errors.New("payload is not supported yet")
		}
		hc := commoncfg.DefaultHTTPClientConfig
		if c.HTTPConfig != nil {
			hc = *c.HTTPConfig
		}
		n, err := New(idx, Config{
			URL:          string(c.URL),
			URLFile:      c.URLFile,
			HTTPConfig:   hc,
			MaxAlerts:    c.MaxAlerts,
			Timeout:      c.Timeout,
			SendResolved: c.SendResolved(),
		}, o)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
}

// Name returns "webhook".
func (n *Notifier) Name() string { return Name }

// Index returns the webhook's index in its receiver's webhook_configs.
func (n *Notifier) Index() int { return n.idx }

// SendResolved reports whether resolved alerts are sent.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify posts d, truncated to max_alerts, as a Message. Network errors
// and 5xx and 429 responses are retryable; other statuses are not.
func (n *Notifier) Notify(ctx context.Context, d *notify.Data) (bool, error) {
	return n.post(ctx, messageBody(d.Truncate(n.maxAlerts)))
}

// NotifyAlerts is Notify for the pipeline: the same message, written
// straight from the alerts.
func (n *Notifier) NotifyAlerts(ctx context.Context, a *notify.Alerts) (bool, error) {
	if n.direct == nil {
		return n.post(ctx, appendAlerts(make([]byte, 0, 512+512*min(len(a.Alerts), n.maxAlerts)), a, n.maxAlerts))
	}
	// The direct client is done with the body when it returns (net/http's
	// may still read it after), so its buffer is reused.
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	*buf = appendAlerts((*buf)[:0], a, n.maxAlerts)
	if cap(*buf) > maxPooledBody {
		defer func() { *buf = nil }()
	}
	return n.post(ctx, *buf)
}

// bodyPool holds message buffers; one grown past maxPooledBody is not kept.
var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBody = 64 << 10

// post posts body to the webhook's URL.
func (n *Notifier) post(ctx context.Context, body []byte) (bool, error) {
	u := n.url
	if n.urlFile != "" {
		var err error
		if u, err = notify.ReadSecretFile(n.urlFile, "url_file"); err != nil {
			return false, err
		}
		if err := checkURL(u); err != nil {
			return false, fmt.Errorf("url_file: %w", err)
		}
	}

	if n.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.timeout, fmt.Errorf("configured webhook timeout reached (%s)", n.timeout))
		defer cancel()
	}
	if n.direct != nil {
		a, err := n.direct.post(ctx, body)
		switch {
		case err == nil && a.code/100 == 2:
			return false, nil
		case err == nil:
			retry, err := notify.CheckResponse(a.response())
			if err != nil {
				return retry, notify.RedactURL(err, u)
			}
			return false, nil
		case !errors.Is(err, errRedirect):
			return true, requestError(ctx, &url.Error{Op: "Post", URL: u, Err: err}, u)
		}
		// A redirect: net/http's client follows it, as configured, with
		// a body of its own (body may be a pooled buffer, which net/http
		// could still read after Do returns).
		body = bytes.Clone(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("webhook request: invalid url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.userAgent)

	resp, err := n.client.Do(req)
	if err != nil {
		return true, requestError(ctx, err, u)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	retry, err := notify.CheckResponse(resp)
	if err != nil {
		return retry, notify.RedactURL(err, u)
	}
	return false, nil
}

// requestError is the error of a request to u that got no response, with
// the URL redacted and the reason ctx ended, if it did.
func requestError(ctx context.Context, err error, u string) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		ue.URL = notify.RedactedURL(u)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
	}
	return notify.RedactURL(err, u)
}

// checkURL validates a webhook URL without ever showing it.
func checkURL(s string) error {
	if err := notify.CheckURL(s); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	return nil
}
