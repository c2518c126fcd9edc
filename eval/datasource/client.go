package datasource

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
)

// DefaultTimeout is the query timeout used when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// userAgent is sent unless Options.Headers sets a User-Agent.
const userAgent = "alertd"

// maxErrorBody bounds how much of a non-2xx response body is read.
const maxErrorBody = 64 << 10

// Options configure a Client. Only URL is required.
type Options struct {
	// URL is the base URL of a Prometheus-compatible query API, e.g.
	// http://127.0.0.1:9090 or https://mimir.example.org/prometheus;
	// queries go to URL + "/api/v1/query". Userinfo in it is used for
	// basic auth and redacted from every error.
	URL string
	// Timeout bounds each query, from sending the request to decoding the
	// response, and is sent to the server as the timeout parameter.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPConfig configures authentication, TLS, proxies and extra headers,
	// as in Prometheus's scrape and remote configs. It is used as given: the
	// zero value does not follow redirects and does not use HTTP/2, while
	// config.DefaultHTTPClientConfig (what YAML unmarshalling starts from)
	// does both.
	HTTPConfig config.HTTPClientConfig
	// Headers are extra request headers, e.g. X-Scope-OrgID. They take
	// precedence over HTTPConfig's credentials; "Host" sets the request's
	// Host. Their values are treated as secrets.
	Headers map[string]string
	// Logger receives debug logs of query warnings. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the client's metrics. Nil registers none. Clients
	// sharing a Registerer share the collectors (see metrics).
	Registerer prometheus.Registerer
}

// Client runs instant queries against a Prometheus-compatible HTTP API
// (POST /api/v1/query), as Prometheus's rule manager runs them against its
// own engine. It is safe for concurrent use.
type Client struct {
	http         *http.Client
	endpoint     string // may carry userinfo; never shown
	shownURL     string // endpoint without password, query or fragment
	host         string // from Options.Headers["Host"]
	headers      map[string]string
	timeout      time.Duration
	timeoutParam string
	timeoutCause error // distinguishes Timeout from the caller's deadline
	logger       *slog.Logger
	metrics      *metrics
	redact       redactor
}

var _ QueryFunc = (*Client)(nil).Query

// New validates o and builds a Client. It starts nothing.
func New(o Options) (*Client, error) {
	var redact redactor
	u, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if pw, ok := u.User.Password(); ok {
		redact.add(pw)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("datasource timeout must not be negative, got %s", o.Timeout)
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}

	cfg := o.HTTPConfig
	if cfg.Authorization != nil { // Validate edits it; leave the caller's alone
		a := *cfg.Authorization
		cfg.Authorization = &a
	}
	addConfigSecrets(&redact, &cfg)
	for _, v := range o.Headers {
		redact.add(v)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("datasource http_config: %s", redact.redact(err.Error()))
	}
	var opts []config.HTTPClientOption
	headers := make(map[string]string, len(o.Headers))
	host := ""
	for k, v := range o.Headers {
		if k = http.CanonicalHeaderKey(k); k == "Host" {
			host = v
		} else {
			headers[k] = v
		}
	}
	if _, ok := headers["User-Agent"]; !ok {
		opts = append(opts, config.WithUserAgent(userAgent))
	}
	hc, err := config.NewClientFromConfig(cfg, "datasource", opts...)
	if err != nil {
		return nil, fmt.Errorf("datasource http_config: %s", redact.redact(err.Error()))
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	endpoint := u.JoinPath("api", "v1", "query")
	return &Client{
		http:         hc,
		endpoint:     endpoint.String(),
		shownURL:     shownURL(endpoint),
		host:         host,
		headers:      headers,
		timeout:      timeout,
		timeoutParam: strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64),
		timeoutCause: fmt.Errorf("query timed out after %s", timeout),
		logger:       logger.With("component", "datasource"),
		metrics:      m,
		redact:       redact,
	}, nil
}

// parseURL parses and checks the base URL. Its errors never quote the URL,
// which may hold a password.
func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("datasource URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error quotes the whole URL
		}
		return nil, fmt.Errorf("invalid datasource URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid datasource URL %s: scheme must be http or https", shownURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid datasource URL %s: no host", shownURL(u))
	}
	return u, nil
}

// shownURL is u as it may appear in errors: password, query and fragment
// removed.
func shownURL(u *url.URL) string {
	s := *u
	if _, ok := s.User.Password(); ok {
		s.User = url.UserPassword(s.User.Username(), redactedSecret)
	}
	s.RawQuery, s.ForceQuery, s.Fragment, s.RawFragment = "", false, "", ""
	return s.String()
}

// addConfigSecrets collects the inline secrets of cfg, which are removed
// from errors even if a server echoes them back.
func addConfigSecrets(r *redactor, cfg *config.HTTPClientConfig) {
	if cfg.BasicAuth != nil {
		r.add(string(cfg.BasicAuth.Password))
	}
	if cfg.Authorization != nil {
		r.add(string(cfg.Authorization.Credentials))
	}
	r.add(string(cfg.BearerToken))
	if cfg.OAuth2 != nil {
		r.add(string(cfg.OAuth2.ClientSecret))
	}
	if cfg.ProxyURL.URL != nil {
		if pw, ok := cfg.ProxyURL.User.Password(); ok {
			r.add(pw)
		}
	}
	for _, vs := range cfg.ProxyConnectHeader {
		for _, v := range vs {
			r.add(string(v))
		}
	}
	if cfg.HTTPHeaders != nil {
		for _, h := range cfg.HTTPHeaders.Headers {
			for _, v := range h.Secrets {
				r.add(string(v))
			}
		}
	}
}

// CloseIdleConnections closes the client's idle connections. Call it when
// a Client is replaced (on reload); the Client remains usable.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Query runs the instant query q at ts and returns its result as a
// Vector. A scalar result is one Sample with empty labels. Every failure,
// including a result of another type, is a *QueryError and comes with a
// nil Vector; an empty result is a non-nil empty Vector.
func (c *Client) Query(ctx context.Context, q string, ts time.Time) (Vector, error) {
	start := time.Now()
	vec, resp, qerr := c.query(ctx, q, ts)
	c.metrics.duration.Observe(time.Since(start).Seconds())
	if qerr != nil {
		c.metrics.failure.Inc()
		qerr.Type = c.redact.redact(qerr.Type)
		qerr.Message = c.redact.redact(qerr.Message)
		qerr.text = c.redact.redact(qerr.text)
		return nil, qerr
	}
	c.metrics.success.Inc()
	if n := len(resp.warnings) + len(resp.infos); n > 0 {
		c.metrics.warnings.Add(float64(n))
		c.logger.DebugContext(ctx, "query returned annotations", "query", q,
			"warnings", c.redactAll(resp.warnings), "infos", c.redactAll(resp.infos))
	}
	return vec, nil
}

func (c *Client) redactAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = c.redact.redact(s)
	}
	return out
}

func (c *Client) query(ctx context.Context, q string, ts time.Time) (Vector, *response, *QueryError) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, c.timeoutCause)
	defer cancel()

	form := url.Values{
		"query":   {q},
		"time":    {formatTime(ts)},
		"timeout": {c.timeoutParam},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, &QueryError{Message: "build request", Err: err, text: "query failed: build request"}
	}
	for k, v := range c.headers {
		req.Header[k] = []string{v}
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if req.Header.Get("Accept-Encoding") == "" {
		// prometheus/common's transport turns Go's transparent gzip off;
		// replies with many series shrink about tenfold.
		req.Header.Set("Accept-Encoding", "gzip")
	}

	httpResp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, c.transportError(ctx, err)
	}
	defer func() { _ = httpResp.Body.Close() }()
	status := httpResp.StatusCode
	if status < 200 || status > 299 {
		raw, err := io.ReadAll(io.LimitReader(httpResp.Body, maxErrorBody))
		if err != nil {
			if qerr := c.contextError(ctx); qerr != nil {
				return nil, nil, qerr
			}
			// Otherwise judge what arrived before the error.
		}
		return nil, nil, errorResponse(status, gunzipError(httpResp.Header, raw))
	}

	body, err := decompress(httpResp)
	if err != nil {
		return nil, nil, c.decodeError(ctx, status, err)
	}
	resp, err := decodeResponse(body)
	if err != nil {
		return nil, nil, c.decodeError(ctx, status, err)
	}
	vec, qerr := resp.vector(status)
	if qerr != nil {
		return nil, nil, qerr
	}
	return vec, resp, nil
}

// decompress returns the response body, gunzipped if the server gzipped it.
func decompress(resp *http.Response) (io.Reader, error) {
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, &readError{err: err}
		}
		return zr, nil
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", truncate(enc, 40))
	}
}

// gunzipError returns an error reply's body, gunzipped if it is gzipped
// and can be; otherwise as it came, to be quoted.
func gunzipError(h http.Header, raw []byte) []byte {
	if enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc != "gzip" && enc != "x-gzip" {
		return raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxErrorBody))
	if err != nil && len(plain) == 0 {
		return raw
	}
	return plain
}

// errorResponse judges a non-2xx response from its (possibly cut) body.
func errorResponse(status int, body []byte) *QueryError {
	if resp, err := decodeResponse(bytes.NewReader(body)); err == nil && resp.status == "error" {
		return apiError(status, resp.errorType, resp.errorMsg)
	}
	return httpStatusError(status, body)
}

// contextError reports a timeout or a cancellation, if ctx is done.
func (c *Client) contextError(ctx context.Context) *QueryError {
	if ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, c.timeoutCause) {
		return &QueryError{
			Message:   cause.Error(),
			Retryable: true,
			Err:       context.DeadlineExceeded,
			text:      cause.Error(),
		}
	}
	msg := "query canceled: " + cause.Error()
	return &QueryError{Message: msg, Err: cause, text: msg}
}

// transportError is a failure to get a response at all.
func (c *Client) transportError(ctx context.Context, err error) *QueryError {
	if qerr := c.contextError(ctx); qerr != nil {
		return qerr
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err // its URL may hold a password; ours does not
	}
	_, badCert := errors.AsType[*tls.CertificateVerificationError](err)
	msg := fmt.Sprintf("POST %s: %v", c.shownURL, err)
	return &QueryError{Message: msg, Retryable: !badCert, Err: err, text: "query failed: " + msg}
}

// decodeError is a 2xx response whose body could not be decoded.
func (c *Client) decodeError(ctx context.Context, status int, err error) *QueryError {
	if qerr := c.contextError(ctx); qerr != nil {
		return qerr
	}
	if re, ok := errors.AsType[*readError](err); ok {
		msg := "read response body: " + re.err.Error()
		return &QueryError{
			StatusCode: status,
			Message:    msg,
			Retryable:  true,
			Err:        re.err,
			text:       fmt.Sprintf("query failed: read response body (HTTP %d): %v", status, re.err),
		}
	}
	msg := err.Error()
	if se, ok := errors.AsType[*syntaxError](err); ok && se.offset < headSize && len(se.head) > 0 {
		msg += "; body: " + snippet(se.head, maxSnippet)
	}
	return &QueryError{
		StatusCode: status,
		Message:    msg,
		text:       fmt.Sprintf("query failed: invalid response body (HTTP %d): %s", status, msg),
	}
}

// formatTime renders ts as the time parameter: Unix seconds with
// millisecond precision, truncated as Prometheus's timestamp.FromTime does.
func formatTime(ts time.Time) string {
	ms := ts.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%s%d.%03d", sign, ms/1000, ms%1000)
}
