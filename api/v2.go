package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	oaerrors "github.com/go-openapi/errors"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/silences"
)

// AlertStore is the Alertmanager's alert store (grouping.Alerts).
type AlertStore interface {
	// Put stores or merges alerts that the API has already validated and
	// given their defaults (UpdatedAt, StartsAt, EndsAt, Timeout).
	Put(alerts ...*alert.Alert) error
	// List returns every alert held, resolved ones too; the API leaves
	// out those whose EndsAt is before now.
	List() []*alert.Alert
}

// Router answers routing questions (grouping.Dispatcher).
type Router interface {
	// Receivers returns the receiver names of the routes an alert with
	// these labels goes to, in route order, deduplicated.
	Receivers(lset labels.Labels) []string
	// Groups returns the current aggregation groups.
	Groups() []AlertGroup
}

// AlertGroup is one aggregation group as Router.Groups reports it.
type AlertGroup struct {
	// Labels are the group's labels (the route's group_by values).
	Labels labels.Labels
	// Receiver is the name of the route's receiver.
	Receiver string
	// Alerts are the alerts in the group, resolved ones included.
	Alerts []*alert.Alert
	// MutedBy names the time intervals that mute the group now, if any.
	MutedBy []string
}

// Muter is a silencer or an inhibitor: Mutes returns the IDs of the
// silences, or the fingerprints of the inhibiting alerts, that mute an alert
// with the label set lset now; none means it is not muted.
type Muter interface {
	Mutes(lset labels.Labels) []string
}

// Silences is the silence store (package silences' *Silences).
type Silences interface {
	// Set creates or updates a silence and returns its ID, which is a
	// new one when the update could not be made in place. The API gives it
	// the matchers as posted: compiled when they compile, raw (so that
	// Set reports the error) when a regular expression does not. Errors
	// wrapping *silences.ValidationError are the caller's (400);
	// silences.ErrNotFound is an unknown ID (404).
	Set(s *silences.Silence) (string, error)
	// Expire ends a silence now; an expired one is left as it is, an
	// unknown ID is silences.ErrNotFound.
	Expire(id string) error
	// Get returns one silence or silences.ErrNotFound.
	Get(id string) (*silences.Silence, error)
	// List returns every silence, in every state.
	List() []*silences.Silence
}

// AlertmanagerOptions configure the Alertmanager-compatible API v2 under
// /api/v2/. Alerts and Silences are what it serves; the other fields may be
// left zero: a nil Router routes nothing, a nil Silencer or Inhibitor mutes
// nothing.
type AlertmanagerOptions struct {
	// Alerts is the alert store of POST and GET /api/v2/alerts.
	Alerts AlertStore
	// Router gives each alert's receivers and the aggregation groups.
	Router Router
	// Silences is the silence store of /api/v2/silences and
	// /api/v2/silence/{id}.
	Silences Silences
	// Silencer and Inhibitor give an alert's silencedBy and inhibitedBy,
	// computed when it is read.
	Silencer  Muter
	Inhibitor Muter
	// ResolveTimeout returns the EndsAt given to posted alerts that have
	// none, counted from when they are received (global.resolve_timeout,
	// which a reload may change); nil or zero means Alertmanager's
	// default, 5m.
	ResolveTimeout func() time.Duration
	// ConfigYAML returns the routing configuration in Alertmanager's
	// syntax, secrets redacted: /api/v2/status's config.original, which
	// amtool's config commands parse with Alertmanager's config.Load.
	ConfigYAML func() string
	// Receivers returns the configured receiver names, in configuration
	// order, for /api/v2/receivers.
	Receivers func() []string
	// StartTime is reported as the uptime (the start time) in
	// /api/v2/status; zero means when New was called.
	StartTime time.Time
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// defaultResolveTimeout is Alertmanager's global.resolve_timeout default.
const defaultResolveTimeout = 5 * time.Minute

// v2 serves the Alertmanager API v2. Its handlers answer as Alertmanager
// 0.25's go-swagger server does: JSON bodies validated against the OpenAPI
// models, go-openapi's {"code","message"} errors for requests the spec
// rejects (400 parse errors, 415, 422 validation), JSON strings for the
// errors Alertmanager's own handlers return.
type v2 struct {
	o      AlertmanagerOptions
	logger *slog.Logger
	routes []v2Route
}

// v2Route is one endpoint: method and path as http.ServeMux patterns.
type v2Route struct {
	method, path string
	handler      http.HandlerFunc
}

func newV2(o AlertmanagerOptions, logger *slog.Logger) *v2 {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StartTime.IsZero() {
		o.StartTime = o.Now()
	}
	v := &v2{o: o, logger: logger}
	// A 405 lists a path's methods in this order (go-openapi's is
	// random).
	v.routes = []v2Route{
		{http.MethodGet, "/api/v2/status", v.getStatus},
		{http.MethodGet, "/api/v2/receivers", v.getReceivers},
		{http.MethodGet, "/api/v2/alerts", v.getAlerts},
		{http.MethodPost, "/api/v2/alerts", v.postAlerts},
		{http.MethodGet, "/api/v2/alerts/groups", v.getAlertGroups},
		{http.MethodGet, "/api/v2/silences", v.getSilences},
		{http.MethodPost, "/api/v2/silences", v.postSilences},
		{http.MethodGet, "/api/v2/silence/{id}", v.getSilence},
		{http.MethodDelete, "/api/v2/silence/{id}", v.deleteSilence},
	}
	return v
}

// register adds the v2 routes, a JSON 404/405 for other paths under
// /api/v2/, and 410 Gone for Alertmanager's removed v1 API.
func (v *v2) register(handle func(pattern string, h http.Handler)) {
	for _, rt := range v.routes {
		handle(rt.method+" "+rt.path, noStore(rt.handler))
	}
	handle("/api/v2/", noStore(http.HandlerFunc(v.unrouted)))
	// GET /api/v1/alerts is Prometheus's and stays so.
	for _, p := range []string{
		"/api/v1/status", "/api/v1/receivers", "POST /api/v1/alerts",
		"/api/v1/silences", "/api/v1/silence/{id}", "/api/v1/alerts/groups",
	} {
		handle(p, http.HandlerFunc(v1Gone))
	}
}

// noStore sets the header Alertmanager sets on every v2 response.
func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// unrouted answers a path under /api/v2/ that no route took: 405 with the
// allowed methods if the path exists, else 404, as go-openapi's router.
func (v *v2) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range v.routes {
		if pathMatches(rt.path, r.URL.Path) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		// go-openapi's body, without the "allowed" field its newer
		// versions add.
		w.Header().Set("Allow", strings.Join(allow, ","))
		writeV2(w, http.StatusMethodNotAllowed, map[string]any{
			"code":    http.StatusMethodNotAllowed,
			"message": fmt.Sprintf("method %s is not allowed, but [%s] are", r.Method, strings.Join(allow, ",")),
		})
		return
	}
	oaerrors.ServeError(w, r, oaerrors.NotFound("path %s was not found", r.URL.EscapedPath()))
}

// pathMatches reports whether path matches a route pattern whose only
// wildcard is a trailing {id} segment.
func pathMatches(pattern, path string) bool {
	prefix, ok := strings.CutSuffix(pattern, "{id}")
	if !ok {
		return pattern == path
	}
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// v1Gone answers Alertmanager's v1 API, removed in Alertmanager 0.27, as
// Alertmanager does.
func v1Gone(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusGone, map[string]string{
		"status": "deprecated",
		"error":  "The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API",
	})
}

// writeV2 writes v as go-openapi's JSON producer does (no HTML escaping).
func writeV2(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeV2Error writes msg as a JSON string, the error body of
// Alertmanager's own handlers.
func writeV2Error(w http.ResponseWriter, status int, msg string) {
	writeV2(w, status, msg)
}

// internalError answers 500 with err's text and logs it, with what the
// handler was doing (op): an error of the stores, not of the request.
func (v *v2) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	v.logger.Error("alertmanager api request failed", "op", op, "path", r.URL.Path, "method", r.Method, "err", err)
	writeV2Error(w, http.StatusInternalServerError, err.Error())
}

// validatable is a go-swagger model.
type validatable interface {
	Validate(formats strfmt.Registry) error
}

// decodeBody reads the JSON request body into dst (a pointer to a model)
// and validates it as go-swagger's parameter binding does. On failure it
// has answered with go-openapi's error body and returns false: 415 for a
// content type other than JSON, 422 for a missing body, 400 for JSON that
// does not decode, 413 for a body over the limit its caller set with
// limitBody, 422 for a body the OpenAPI schema rejects.
func decodeBody(w http.ResponseWriter, r *http.Request, name string, dst validatable) bool {
	if r.ContentLength == 0 {
		oaerrors.ServeError(w, r, oaerrors.Required(name, "body", nil))
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		oaerrors.ServeError(w, r, oaerrors.NewParseError("Content-Type", "header", ct, err))
		return false
	}
	if mt != "application/json" {
		oaerrors.ServeError(w, r, oaerrors.InvalidContentType(mt, []string{"application/json"}))
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(dst); err != nil {
		if tooLarge(w, r, err) {
			return false
		}
		if errors.Is(err, io.EOF) {
			oaerrors.ServeError(w, r, oaerrors.Required(name, "body", nil))
		} else {
			oaerrors.ServeError(w, r, oaerrors.NewParseError(name, "body", "", err))
		}
		return false
	}
	// What follows the JSON value is ignored, as go-openapi does, but it
	// counts towards the body's limit.
	if _, err := io.Copy(io.Discard, r.Body); tooLarge(w, r, err) {
		return false
	}
	if err := dst.Validate(strfmt.Default); err != nil {
		oaerrors.ServeError(w, r, err)
		return false
	}
	return true
}

// boolParam reads a boolean query parameter as go-swagger's binding does
// (swag.ConvertBool): absent or empty is def; "true", "1", "yes", "ok",
// "y", "on", "selected", "checked", "t" and "enabled", in any case, are
// true; anything else is false.
func boolParam(r *http.Request, name string, def bool) bool {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def
	}
	switch strings.ToLower(s) {
	case "true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled":
		return true
	}
	return false
}

// parseFilter parses the filter query parameters, each one matcher in
// Alertmanager's classic syntax (what amtool 0.25 and Grafana send).
func parseFilter(r *http.Request) (amlabels.Matchers, error) {
	vs := r.URL.Query()["filter"]
	ms := make(amlabels.Matchers, 0, len(vs))
	for _, s := range vs {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// apiLabels converts a label set to the API's.
func apiLabels(ls labels.Labels) models.LabelSet {
	out := make(models.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) { out[l.Name] = l.Value })
	return out
}

// nonNil returns s, or an empty slice for nil, so that it encodes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
