package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval"
)

// RulesSource gives the state of the rule groups.
type RulesSource interface {
	Status() []eval.GroupStatus
}

// Options configure the API. Nil fields disable what they serve.
type Options struct {
	Rules    RulesSource
	Reload   func(ctx context.Context) error // POST /-/reload
	Ready    func() bool                     // nil: always ready
	Gatherer prometheus.Gatherer             // /metrics
	Logger   *slog.Logger
	// Alertmanager serves the Alertmanager API v2 under /api/v2/ (and
	// 410 Gone on Alertmanager's removed v1 paths); nil: not served.
	Alertmanager *AlertmanagerOptions
	// Notifications is served at GET /api/v1/notifications; nil: an
	// empty history.
	Notifications NotificationHistory
	// DatasourceURL returns the datasource's URL for the UI's links to
	// its graph (GET /api/v1/status/datasource). It must hold no
	// credentials: no userinfo, no query. Nil: no datasource.
	DatasourceURL func() string
	// UI serves the web UI at / and /static/ (web.Handler); nil: not
	// served.
	UI http.Handler
}

// API is the HTTP handler.
type API struct {
	o   Options
	mux *http.ServeMux
	// patterns are the mux's patterns, in the order registered, for the
	// tests that walk every route.
	patterns []string
}

// New returns the API handler.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{o: o, mux: http.NewServeMux()}
	// No GET route changes state: reload, posting alerts and silences and
	// expiring silences take POST, PUT or DELETE (TestGetChangesNothing).
	a.handleFunc("GET /api/v1/rules", a.rules)
	a.handleFunc("GET /api/v1/alerts", a.alerts)
	a.handleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("alertd is Healthy.\n"))
	})
	a.handleFunc("GET /-/ready", a.ready)
	a.handleFunc("POST /-/reload", a.reload)
	a.handleFunc("PUT /-/reload", a.reload)
	if o.Gatherer != nil {
		a.handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	}
	if o.Alertmanager != nil {
		newV2(*o.Alertmanager, o.Logger).register(a.handle)
	}
	a.registerUI()
	// Go's profiler, as Prometheus and Alertmanager serve it. Profiles and
	// traces cost CPU while they run but change no state.
	a.handleFunc("GET /debug/pprof/", pprof.Index)
	a.handleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	a.handleFunc("GET /debug/pprof/profile", pprof.Profile)
	a.handleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	a.handleFunc("GET /debug/pprof/trace", pprof.Trace)
	return a
}

func (a *API) handle(pattern string, h http.Handler) {
	a.mux.Handle(pattern, h)
	a.patterns = append(a.patterns, pattern)
}

func (a *API) handleFunc(pattern string, h http.HandlerFunc) { a.handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) ready(w http.ResponseWriter, _ *http.Request) {
	if a.o.Ready != nil && !a.o.Ready() {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("alertd is Ready.\n"))
}

func (a *API) reload(w http.ResponseWriter, r *http.Request) {
	if a.o.Reload == nil {
		http.Error(w, "reload is not available", http.StatusServiceUnavailable)
		return
	}
	if err := a.o.Reload(r.Context()); err != nil {
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// The JSON shapes are Prometheus's (web/api/v1), so Grafana and scripts
// written for Prometheus read them.

type response struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

type ruleGroupJSON struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertingRuleJSON struct {
	State          string        `json:"state"`
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Duration       float64       `json:"duration"`
	KeepFiringFor  float64       `json:"keepFiringFor"`
	Labels         labels.Labels `json:"labels"`
	Annotations    labels.Labels `json:"annotations"`
	Alerts         []alertJSON   `json:"alerts"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

type recordingRuleJSON struct {
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Labels         labels.Labels `json:"labels"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

type alertJSON struct {
	Labels          labels.Labels `json:"labels"`
	Annotations     labels.Labels `json:"annotations"`
	State           string        `json:"state"`
	ActiveAt        *time.Time    `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time    `json:"keepFiringSince,omitempty"`
	Value           string        `json:"value"`
}

func toAlertJSON(as []eval.AlertStatus) []alertJSON {
	out := make([]alertJSON, 0, len(as))
	for _, a := range as {
		aj := alertJSON{
			Labels:      a.Labels,
			Annotations: a.Annotations,
			State:       a.State.String(),
			ActiveAt:    &a.ActiveAt,
			Value:       strconv.FormatFloat(a.Value, 'e', -1, 64),
		}
		if !a.KeepFiringSince.IsZero() {
			aj.KeepFiringSince = &a.KeepFiringSince
		}
		out = append(out, aj)
	}
	slices.SortFunc(out, func(a, b alertJSON) int { return labels.Compare(a.Labels, b.Labels) })
	return out
}

func (a *API) rules(w http.ResponseWriter, r *http.Request) {
	if a.o.Rules == nil {
		writeJSON(w, http.StatusOK, response{Status: "success", Data: map[string]any{"groups": []any{}}})
		return
	}
	q := r.URL.Query()
	typ := q.Get("type")
	if typ != "" && typ != "alert" && typ != "record" {
		writeJSON(w, http.StatusBadRequest, response{Status: "error", ErrorType: "bad_data", Error: `invalid query parameter type="` + typ + `": must be "alert" or "record"`})
		return
	}
	names, groupNames, files := set(q["rule_name[]"]), set(q["rule_group[]"]), set(q["file[]"])
	excludeAlerts := q.Get("exclude_alerts") == "true"
	groups := []ruleGroupJSON{}
	for _, g := range a.o.Rules.Status() {
		if !groupNames.has(g.Name) || !files.has(g.File) {
			continue
		}
		gj := ruleGroupJSON{
			Name:           g.Name,
			File:           g.File,
			Rules:          []any{},
			Interval:       g.Interval.Seconds(),
			Limit:          g.Limit,
			EvaluationTime: g.EvaluationTime.Seconds(),
			LastEvaluation: g.LastEvaluation,
		}
		for _, rs := range g.Rules {
			if !names.has(rs.Name) {
				continue
			}
			switch {
			case rs.Type == "alerting" && typ != "record":
				rj := alertingRuleJSON{
					State:          rs.State,
					Name:           rs.Name,
					Query:          rs.Query,
					Duration:       rs.Duration.Seconds(),
					KeepFiringFor:  rs.KeepFiringFor.Seconds(),
					Labels:         rs.Labels,
					Annotations:    rs.Annotations,
					Alerts:         []alertJSON{},
					Health:         string(rs.Health),
					LastError:      rs.LastError,
					EvaluationTime: rs.EvaluationTime.Seconds(),
					LastEvaluation: rs.LastEvaluation,
					Type:           "alerting",
				}
				if !excludeAlerts {
					rj.Alerts = toAlertJSON(rs.Alerts)
				}
				gj.Rules = append(gj.Rules, rj)
			case rs.Type == "recording" && typ != "alert":
				gj.Rules = append(gj.Rules, recordingRuleJSON{
					Name:           rs.Name,
					Query:          rs.Query,
					Labels:         rs.Labels,
					Health:         string(rs.Health),
					LastError:      rs.LastError,
					EvaluationTime: rs.EvaluationTime.Seconds(),
					LastEvaluation: rs.LastEvaluation,
					Type:           "recording",
				})
			}
		}
		if typ != "" && len(gj.Rules) == 0 {
			continue
		}
		groups = append(groups, gj)
	}
	writeJSON(w, http.StatusOK, response{Status: "success", Data: map[string]any{"groups": groups}})
}

func (a *API) alerts(w http.ResponseWriter, _ *http.Request) {
	all := []alertJSON{}
	if a.o.Rules != nil {
		for _, g := range a.o.Rules.Status() {
			for _, rs := range g.Rules {
				all = append(all, toAlertJSON(rs.Alerts)...)
			}
		}
	}
	writeJSON(w, http.StatusOK, response{Status: "success", Data: map[string]any{"alerts": all}})
}

type stringSet map[string]bool

func set(vs []string) stringSet {
	if len(vs) == 0 {
		return nil
	}
	s := stringSet{}
	for _, v := range vs {
		s[v] = true
	}
	return s
}

// has reports whether v is in the set; an empty set has everything.
func (s stringSet) has(v string) bool { return s == nil || s[v] }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
