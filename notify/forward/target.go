package forward

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// DefaultTimeout is the per-request timeout of a Target that sets none; it
// is the default of Prometheus's alertmanager_config timeout.
const DefaultTimeout = 10 * time.Second

// target is a Target ready to post to.
type target struct {
	// name is the API endpoint without userinfo: the metric label value and
	// the only form of the URL that reaches logs and errors.
	name    string
	timeout time.Duration
	http    *http.Client
	api     amalert.ClientService

	// The target's series, resolved once: a batch still in flight when
	// ApplyConfig removes the target then cannot re-create them.
	sent, errors prometheus.Counter
	latency      prometheus.Observer
}

// errInvalidURL never carries any part of the URL: a URL that does not
// parse cannot be redacted reliably (e.g. an unescaped "/" in a password
// makes the rest of the password look like a port).
var errInvalidURL = errors.New("invalid url (check that userinfo is percent-escaped)")

// newTarget validates t and builds its client; the caller sets its series.
func newTarget(t Target) (*target, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, errInvalidURL
	}
	// Neither userinfo nor a query (which could hold a token) ever reaches
	// an error, a log or a metric label.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", shown)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q: no host", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("url %q: must not have a query or fragment", shown)
	}
	if t.Timeout < 0 {
		return nil, fmt.Errorf("url %q: negative timeout %s", shown, t.Timeout)
	}

	basePath := path.Join("/", u.Path, "api/v2") + "/"
	name := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path.Join(basePath, "alerts")}).String()

	hc, err := httpConfig(t.HTTPConfig, u.User)
	if err != nil {
		return nil, fmt.Errorf("alertmanager %q: %w", name, err)
	}
	client, err := config.NewClientFromConfig(hc, "alertmanager", config.WithUserAgent(version.ComponentUserAgent("alertd")))
	if err != nil {
		return nil, fmt.Errorf("alertmanager %q: http client: %w", name, err)
	}

	rt := httptransport.NewWithClient(u.Host, basePath, []string{u.Scheme}, client)
	// go-openapi turns on request dumping (headers included, so
	// credentials) when DEBUG or SWAGGER_DEBUG is set in the environment.
	rt.Debug = false
	// Like Prometheus, any 2xx counts as accepted whatever the body's type.
	rt.Consumers["*/*"] = runtime.ByteStreamConsumer()
	rt.EnableConnectionReuse()

	timeout := t.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &target{
		name:    name,
		timeout: timeout,
		http:    client,
		api:     amclient.New(rt, strfmt.Default).Alert,
	}, nil
}

// httpConfig returns a validated copy of c, with userinfo from the URL
// turned into basic auth. It does not modify c.
func httpConfig(c config.HTTPClientConfig, user *url.Userinfo) (config.HTTPClientConfig, error) {
	// Validate normalises Authorization in place; copy what it may touch.
	if c.Authorization != nil {
		a := *c.Authorization
		c.Authorization = &a
	}
	if user != nil {
		if c.BasicAuth != nil || c.Authorization != nil || c.OAuth2 != nil || c.BearerToken != "" || c.BearerTokenFile != "" {
			return c, errors.New("url userinfo and http_config authentication are mutually exclusive")
		}
		pw, _ := user.Password()
		c.BasicAuth = &config.BasicAuth{Username: user.Username(), Password: config.Secret(pw)}
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("http_config: %w", err)
	}
	return c, nil
}

// post sends one batch. Any 2xx status is success.
func (t *target) post(ctx context.Context, batch models.PostableAlerts) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	_, err := t.api.PostAlerts(amalert.NewPostAlertsParamsWithContext(ctx).WithAlerts(batch))
	if apiErr, ok := errors.AsType[*runtime.APIError](err); ok && apiErr.IsSuccess() {
		return nil
	}
	return err
}

// toPostable converts alerts to the API v2 payload as Prometheus does, with
// times in UTC (the wire format has millisecond precision).
func toPostable(alerts []*alert.Alert) models.PostableAlerts {
	out := make(models.PostableAlerts, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, &models.PostableAlert{
			Annotations: toLabelSet(a.Annotations),
			StartsAt:    strfmt.DateTime(a.StartsAt.UTC()),
			EndsAt:      strfmt.DateTime(a.EndsAt.UTC()),
			Alert: models.Alert{
				GeneratorURL: strfmt.URI(a.GeneratorURL),
				Labels:       toLabelSet(a.Labels),
			},
		})
	}
	return out
}

func toLabelSet(ls labels.Labels) models.LabelSet {
	s := make(models.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) { s[l.Name] = l.Value })
	return s
}
