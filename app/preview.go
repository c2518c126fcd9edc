package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/grouping"
	"github.com/alertd/alertd/grouping/inhibit"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/rules"
	"github.com/alertd/alertd/silences"
)

// PreviewOptions configure a Previewer. The zero value is valid.
type PreviewOptions struct {
	// ExternalURL overrides global.external_url, as run's
	// --web.external-url does; the messages' .ExternalURL is the same as
	// the daemon's.
	ExternalURL string
	// Now is the time of Route's notifications (the alert's StartsAt, an
	// email's Date) and Preview's default time; nil means time.Now.
	Now func() time.Time
	// Logger receives the integrations' warnings (a PagerDuty summary cut
	// short); nil discards them.
	Logger *slog.Logger
}

// Previewer shows what alertd would deliver for alerts without sending
// anything: the routes and receivers an alert reaches, how alerts are
// grouped, which are muted and why, and the exact message of every
// integration. It is built from alertd.yml as `alertd run` builds its
// routing (the same routing tree, inhibition rules, time intervals,
// templates and integrations) and never touches the network. Its methods
// are safe for concurrent use.
type Previewer struct {
	half        *amHalf // nil: the configuration has no routing
	externalURL string
	now         func() time.Time
	order       map[*grouping.Route]int // depth first
}

// NewPreviewer builds a Previewer of cfg's routing half.
func NewPreviewer(cfg *config.Config, o PreviewOptions) (*Previewer, error) {
	if cfg == nil {
		return nil, errors.New("preview: no configuration")
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The daemon's own derivation of the external URL, with run's default
	// listen address.
	ext, err := (&App{o: Options{ExternalURL: o.ExternalURL, ListenAddress: ":9095"}}).externalURL(cfg)
	if err != nil {
		return nil, err
	}
	h, err := buildAMHalf(cfg.Alertmanager, logger)
	if err != nil {
		if cfg.File != "" {
			err = fmt.Errorf("%s: %w", cfg.File, err)
		}
		return nil, err
	}
	return newPreviewer(h, ext, o.Now), nil
}

func newPreviewer(h *amHalf, externalURL string, now func() time.Time) *Previewer {
	if now == nil {
		now = time.Now
	}
	p := &Previewer{half: h, externalURL: externalURL, now: now, order: map[*grouping.Route]int{}}
	if h != nil {
		h.route.Walk(func(r *grouping.Route) { p.order[r] = len(p.order) })
	}
	return p
}

// RouteMatch is one route an alert lands in.
type RouteMatch struct {
	// Route identifies the route: its matchers and those of its parents,
	// with the index of each child, e.g. {}/{severity="page"}/0.
	Route    string
	Receiver string
	// MuteTimeIntervals and ActiveTimeIntervals are the route's.
	MuteTimeIntervals, ActiveTimeIntervals []string
}

func routeMatch(r *grouping.Route) RouteMatch {
	return RouteMatch{Route: r.ID(), Receiver: r.Opts.Receiver, MuteTimeIntervals: r.Opts.MuteTimeIntervals, ActiveTimeIntervals: r.Opts.ActiveTimeIntervals}
}

// Routes returns the routes an alert with lset lands in, in routing order
// (depth first, a matching route without continue ending the search).
func (p *Previewer) Routes(lset labels.Labels) []RouteMatch {
	if p.half == nil {
		return nil
	}
	var out []RouteMatch
	for _, r := range p.half.route.Match(lset) {
		out = append(out, routeMatch(r))
	}
	return out
}

// Delivery is one notification a single alert would cause.
type Delivery struct {
	Receiver string
	// Integration is the kind ("email", "slack", "pagerduty", "webhook");
	// empty for a receiver without integrations, which gets one Delivery.
	Integration string
	// Index is the integration's index among the receiver's of its kind.
	Index int
	// Fields are the message's named parts (notify.Rendered.Fields).
	Fields map[string]string
}

// Route returns the notifications a firing alert with these labels and
// annotations would cause on its own, started at Now: one per
// integration of each route it lands in, in routing order (a receiver
// reached by two routes gets two notifications, of two groups). Silences,
// inhibition and time intervals play no part. An integration whose
// message fails to render is an error naming the receiver and the
// integration; the others are still returned.
func (p *Previewer) Route(lbls, annotations map[string]string) ([]Delivery, error) {
	now := p.now()
	a := &alert.Alert{Labels: labels.FromMap(lbls), Annotations: labels.FromMap(annotations), StartsAt: now}
	pv, err := p.preview(PreviewInput{Alerts: []*alert.Alert{a}, At: now}, false)
	if err != nil {
		return nil, err
	}
	var (
		out  []Delivery
		errs []error
	)
	for _, g := range pv.Groups {
		if len(g.Integrations) == 0 {
			out = append(out, Delivery{Receiver: g.Receiver})
		}
		for _, ip := range g.Integrations {
			switch {
			case ip.Err != nil:
				errs = append(errs, fmt.Errorf("receiver %q: %s[%d]: %w", g.Receiver, ip.Name, ip.Index, ip.Err))
			case ip.Rendered != nil:
				out = append(out, Delivery{Receiver: g.Receiver, Integration: ip.Name, Index: ip.Index, Fields: ip.Rendered.Fields})
			}
		}
	}
	return out, errors.Join(errs...)
}

// PreviewInput is a set of alerts to preview, and what could mute them.
type PreviewInput struct {
	// Alerts are alerts as the evaluator sends them or as posted to
	// /api/v2/alerts: resolved if EndsAt is set and not after At.
	Alerts []*alert.Alert
	// Silences are the silences that exist, e.g. a running alertd's
	// (GET /api/v2/silences); those active at At mute.
	Silences []*silences.Silence
	// At is the time of the flushes: of the silences', time intervals'
	// and inhibitions' checks, and of the messages. Zero means Now.
	At time.Time
}

// Preview is what alertd would deliver for a set of alerts.
type Preview struct {
	At time.Time
	// Groups are the aggregation groups the alerts make, in routing
	// order (depth first), then by group labels.
	Groups []GroupPreview
}

// GroupPreview is one aggregation group and what its flush at At would
// send.
type GroupPreview struct {
	RouteMatch
	GroupKey    string
	GroupLabels labels.Labels
	// Alerts are the group's alerts, sorted as in a notification.
	Alerts []*alert.Alert
	// FlushPreview tells which alerts are muted and why, and each
	// integration's message.
	*notify.FlushPreview
}

// Muted says why the flush would send nothing, or "" if it sends.
func (g *GroupPreview) Muted() string {
	switch {
	case len(g.MutedBy) > 0:
		return "muted by time intervals " + strings.Join(g.MutedBy, ", ")
	case len(g.Sent) == 0:
		return "every alert is inhibited or silenced"
	}
	return ""
}

// Preview groups in.Alerts as the dispatcher would, and works out each
// group's flush at in.At as the notification pipeline would, applying
// inhibition among in.Alerts, in.Silences and the routes' time intervals.
// An error means a silence does not compile or a route names a receiver
// that does not exist.
func (p *Previewer) Preview(in PreviewInput) (*Preview, error) { return p.preview(in, true) }

func (p *Previewer) preview(in PreviewInput, intervals bool) (*Preview, error) {
	at := in.At
	if at.IsZero() {
		at = p.now()
	}
	out := &Preview{At: at}
	if p.half == nil || len(in.Alerts) == 0 {
		return out, nil
	}
	sm, err := newSilenceMuter(in.Silences, at)
	if err != nil {
		return nil, err
	}
	alerts := make([]*alert.Alert, 0, len(in.Alerts))
	for _, a := range in.Alerts {
		if a == nil {
			continue
		}
		c := *a
		if !c.Resolved(at) {
			c.EndsAt = time.Time{} // as the dispatcher shows a firing alert
		}
		alerts = append(alerts, &c)
	}
	ih, err := inhibit.New(p.half.cfg.InhibitRules, inhibit.Options{Now: func() time.Time { return at }})
	if err != nil {
		return nil, fmt.Errorf("inhibit_rules: %w", err)
	}
	ih.Put(alerts...)
	pl, err := notify.New(notify.Options{
		Receivers:     p.half.receivers,
		Inhibitor:     ih,
		Silencer:      sm,
		TimeIntervals: notify.TimeIntervals(p.half.cfg),
		ExternalURL:   p.externalURL,
	})
	if err != nil {
		return nil, err
	}
	// The dispatcher groups; it is never run, so it flushes nothing.
	d := grouping.NewDispatcher(grouping.DispatcherOptions{Route: p.half.route})
	d.Put(alerts...)
	taken := map[string][]*grouping.Route{}
	routes := map[string]*grouping.Route{}
	for _, g := range d.Groups() {
		r := p.groupRoute(g, taken)
		n := &alert.Notification{
			GroupKey:       g.Key,
			GroupLabels:    g.Labels,
			Receiver:       g.Receiver,
			RepeatInterval: r.Opts.RepeatInterval,
			Now:            at,
			Alerts:         g.Alerts,
		}
		if intervals {
			n.MuteTimeIntervals, n.ActiveTimeIntervals = g.MuteTimeIntervals, g.ActiveTimeIntervals
		}
		fp, err := pl.Preview(n)
		if err != nil {
			return nil, err
		}
		gp := GroupPreview{RouteMatch: routeMatch(r), GroupKey: g.Key, GroupLabels: g.Labels, Alerts: g.Alerts, FlushPreview: fp}
		routes[gp.Route+"\xff"+gp.GroupKey] = r
		out.Groups = append(out.Groups, gp)
	}
	// Groups come sorted by group labels: put them in routing order,
	// keeping that order within a route.
	slices.SortStableFunc(out.Groups, func(a, b GroupPreview) int {
		return cmp.Compare(p.order[routes[a.Route+"\xff"+a.GroupKey]], p.order[routes[b.Route+"\xff"+b.GroupKey]])
	})
	return out, nil
}

// groupRoute finds the route of a dispatcher's group: one its first alert
// lands in, with the group's receiver and key, not yet given to another
// group of the same key (sibling routes with the same matchers share a
// key).
func (p *Previewer) groupRoute(g grouping.AlertGroup, taken map[string][]*grouping.Route) *grouping.Route {
	for _, r := range p.half.route.Match(g.Alerts[0].Labels) {
		if r.Opts.Receiver != g.Receiver || !strings.HasPrefix(g.Key, r.Key()+":") || slices.Contains(taken[g.Key], r) {
			continue
		}
		taken[g.Key] = append(taken[g.Key], r)
		return r
	}
	return p.half.route // not reached: the group was made by one of these routes
}

// silenceMuter mutes by a fixed list of silences at a fixed time.
type silenceMuter struct {
	sils []*silences.Silence // with compiled matchers
	at   time.Time
}

var _ notify.Muter = silenceMuter{}

// newSilenceMuter compiles the matchers of sils, which may have been built
// without amlabels.NewMatcher.
func newSilenceMuter(sils []*silences.Silence, at time.Time) (silenceMuter, error) {
	m := silenceMuter{at: at}
	for _, s := range sils {
		if s == nil {
			continue
		}
		c := *s
		c.Matchers = make(amlabels.Matchers, 0, len(s.Matchers))
		for i, sm := range s.Matchers {
			if sm == nil {
				return m, fmt.Errorf("silence %s: matcher %d is missing", s.ID, i)
			}
			cm, err := amlabels.NewMatcher(sm.Type, sm.Name, sm.Value)
			if err != nil {
				return m, fmt.Errorf("silence %s: matcher %d: %w", s.ID, i, err)
			}
			c.Matchers = append(c.Matchers, cm)
		}
		m.sils = append(m.sils, &c)
	}
	return m, nil
}

// Mutes returns the sorted IDs of the silences active at m.at whose
// matchers all match lset, a missing label being "", as Silences.Mutes.
func (m silenceMuter) Mutes(lset labels.Labels) []string {
	var ids []string
	for _, s := range m.sils {
		if s.State(m.at) != silences.StateActive {
			continue
		}
		if !slices.ContainsFunc(s.Matchers, func(mt *amlabels.Matcher) bool { return !mt.Matches(lset.Get(mt.Name)) }) {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// DryRunOptions configure DryRun. ConfigFile is required.
type DryRunOptions struct {
	ConfigFile string
	// At is the evaluation time; zero means now, to the second.
	At time.Time
	// Rule selects the alerting rules whose name it matches (anywhere in
	// the name, as go test -run); nil selects all.
	Rule *regexp.Regexp
	// Silences are those that may mute the alerts, e.g. a running
	// alertd's; those active at At mute.
	Silences []*silences.Silence
	// ExternalURL overrides global.external_url, as run's flag.
	ExternalURL string
	// Logger receives the evaluation's warnings; nil discards them.
	Logger *slog.Logger
}

// DryRunReport is the outcome of a dry run: `alertd dry-run
// --output=json` prints it. Its shape is stable (docs/dry-run.md).
type DryRunReport struct {
	At            time.Time            `json:"at"`
	Rules         []DryRunRule         `json:"rules"`
	Notifications []DryRunNotification `json:"notifications"`
	// FailedRules counts the rules that could not be evaluated.
	FailedRules int `json:"failedRules"`
}

// DryRunRule is one alerting rule and its active alerts at At.
type DryRunRule struct {
	// File is the rule file, relative to the configuration file's
	// directory when inside it.
	File          string         `json:"file"`
	Group         string         `json:"group"`
	Name          string         `json:"name"`
	Query         string         `json:"query"`
	For           model.Duration `json:"for"`
	KeepFiringFor model.Duration `json:"keepFiringFor"`
	Interval      model.Duration `json:"interval"`
	QueryOffset   model.Duration `json:"queryOffset"`
	// WindowStart is the first evaluation of the replay, At minus
	// for + keep_firing_for rounded up to whole intervals; nil when the
	// rule has neither and was evaluated at At only.
	WindowStart *time.Time `json:"windowStart,omitempty"`
	// Error is why the rule could not be evaluated (its query failed).
	Error  string        `json:"error,omitempty"`
	Alerts []DryRunAlert `json:"alerts"`
}

// DryRunAlert is one pending or firing alert at At.
type DryRunAlert struct {
	State string `json:"state"` // "pending" or "firing"
	// Since is the first evaluation of the unbroken run of evaluations,
	// ending at At, in which the condition held (Prometheus's activeAt);
	// SinceWindowStart says it is the window's first, so the condition may
	// have held for longer.
	Since            time.Time  `json:"since"`
	SinceWindowStart bool       `json:"sinceWindowStart"`
	FiredAt          *time.Time `json:"firedAt,omitempty"`
	// KeepFiringSince is set while keep_firing_for keeps the alert firing
	// after its condition stopped holding.
	KeepFiringSince *time.Time `json:"keepFiringSince,omitempty"`
	Value           string     `json:"value"`
	// Fingerprint identifies the alert (16 hex digits of its labels').
	Fingerprint string `json:"fingerprint"`
	// Labels are the alert's labels as alertd would send them, external
	// labels included.
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Routes      []DryRunRoute     `json:"routes"`
	// SilencedBy are the IDs of the silences that would mute the alert.
	SilencedBy []string `json:"silencedBy"`
	// InhibitedBy are the fingerprints of the alerts of this dry run that
	// would inhibit it.
	InhibitedBy []string `json:"inhibitedBy"`
}

// DryRunRoute is one route an alert lands in.
type DryRunRoute struct {
	Route    string `json:"route"`
	Receiver string `json:"receiver"`
	// Notification is the index in DryRunReport.Notifications of the
	// group the alert is in; nil for a pending alert, which is not sent.
	Notification *int `json:"notification,omitempty"`
}

// DryRunNotification is one aggregation group of the firing alerts and
// the messages its flush would send.
type DryRunNotification struct {
	Route       string            `json:"route"`
	Receiver    string            `json:"receiver"`
	GroupKey    string            `json:"groupKey"`
	GroupLabels map[string]string `json:"groupLabels"`
	// Alerts are the fingerprints of the group's alerts; Sent those of
	// the alerts neither inhibited nor silenced, empty when time
	// intervals mute the group (MutedBy).
	Alerts  []string `json:"alerts"`
	Sent    []string `json:"sent"`
	MutedBy []string `json:"mutedBy"`
	// Muted says why nothing would be sent; empty if something is.
	Muted    string          `json:"muted,omitempty"`
	Messages []DryRunMessage `json:"messages"`
}

// DryRunMessage is the message one integration would send.
type DryRunMessage struct {
	Integration string `json:"integration"`
	Index       int    `json:"index"`
	ContentType string `json:"contentType,omitempty"`
	// Body is the exact bytes that would be sent, secrets replaced by
	// "<redacted>".
	Body   string            `json:"body,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	// Error is why the message could not be rendered: the notification
	// would fail.
	Error string `json:"error,omitempty"`
}

// dryRunParallelism bounds the rules evaluated at once.
const dryRunParallelism = 4

// DryRun evaluates every selected alerting rule of o.ConfigFile once at
// o.At against the configured datasource, as the daemon would have
// evaluated it, and previews what would be delivered. Nothing is sent.
//
// A rule with for or keep_firing_for is replayed: one range query over
// [At − window, At], window being for + keep_firing_for rounded up to
// whole group intervals, with the group's interval as step, fed step by
// step to the daemon's own alert state machine, as if alertd had been
// evaluating the rule since the window's start. A rule with neither is
// one instant query at At. An error is returned only when the
// configuration or the rule files do not load; a rule whose query fails
// is reported in the rule's Error and counted in FailedRules.
func DryRun(ctx context.Context, o DryRunOptions) (*DryRunReport, error) {
	if o.ConfigFile == "" {
		return nil, errors.New("no configuration file given")
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	at := o.At
	if at.IsZero() {
		at = time.Now().Truncate(time.Second)
	}
	// The query API takes milliseconds.
	at = at.Truncate(time.Millisecond).UTC()
	// The daemon's own loading: configuration, rule files, datasource
	// client and routing half. Its metrics go to a registry of their own.
	a := &App{o: Options{ConfigFile: o.ConfigFile, ExternalURL: o.ExternalURL, ListenAddress: ":9095", Logger: logger}, reg: prometheus.NewRegistry()}
	l, err := a.build()
	if err != nil {
		return nil, err
	}
	if l.ds == nil {
		return nil, fmt.Errorf("%s: no datasource configured", o.ConfigFile)
	}
	defer l.ds.CloseIdleConnections()
	rc, err := newRangeClient(l.cfg.Datasource)
	if err != nil {
		return nil, fmt.Errorf("%s: datasource: %w", o.ConfigFile, err)
	}
	defer rc.http.CloseIdleConnections()

	type job struct {
		g *rules.Group
		r rules.Rule
	}
	var jobs []job
	for _, g := range l.groups {
		for _, r := range g.Rules {
			if r.Alert != "" && (o.Rule == nil || o.Rule.MatchString(r.Alert)) {
				jobs = append(jobs, job{g, r})
			}
		}
	}
	results := make([]ruleRun, len(jobs))
	sem := make(chan struct{}, dryRunParallelism)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = replayRule(ctx, l, rc, j.g, j.r, at, logger)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rep := &DryRunReport{At: at, Rules: make([]DryRunRule, len(jobs)), Notifications: []DryRunNotification{}}
	var firing []*alert.Alert
	for i, rr := range results {
		j := jobs[i]
		rep.Rules[i] = DryRunRule{
			File:          shownPath(filepath.Dir(o.ConfigFile), j.g.File),
			Group:         j.g.Name,
			Name:          j.r.Alert,
			Query:         j.r.Expr,
			For:           model.Duration(j.r.For),
			KeepFiringFor: model.Duration(j.r.KeepFiringFor),
			Interval:      model.Duration(rr.interval),
			QueryOffset:   model.Duration(rr.offset),
			WindowStart:   rr.windowStart,
			Alerts:        []DryRunAlert{},
		}
		if rr.err != nil {
			rep.Rules[i].Error = rr.err.Error()
			rep.FailedRules++
			continue
		}
		firing = append(firing, rr.firing...)
	}

	pv := newPreviewer(l.am, l.settings.ExternalURL, nil)
	preview, err := pv.Preview(PreviewInput{Alerts: firing, Silences: o.Silences, At: at})
	if err != nil {
		return nil, err
	}
	// The groups, routes and mutes of each firing alert, by fingerprint.
	type where struct {
		routes                 []DryRunRoute
		silencedBy, inhibitors []string
	}
	byFP := map[uint64]*where{}
	for gi, g := range preview.Groups {
		dn := DryRunNotification{
			Route:       g.Route,
			Receiver:    g.Receiver,
			GroupKey:    g.GroupKey,
			GroupLabels: g.GroupLabels.Map(),
			Alerts:      []string{},
			Sent:        []string{},
			MutedBy:     append([]string{}, g.MutedBy...),
			Muted:       g.Muted(),
			Messages:    []DryRunMessage{},
		}
		for _, a := range g.Alerts {
			fp := a.Fingerprint()
			dn.Alerts = append(dn.Alerts, fingerprint(fp))
			w := byFP[fp]
			if w == nil {
				w = &where{silencedBy: g.Silenced[fp], inhibitors: g.Inhibited[fp]}
				byFP[fp] = w
			}
			w.routes = append(w.routes, DryRunRoute{Route: g.Route, Receiver: g.Receiver, Notification: &gi})
		}
		for _, a := range g.Sent {
			dn.Sent = append(dn.Sent, fingerprint(a.Fingerprint()))
		}
		for _, ip := range g.Integrations {
			m := DryRunMessage{Integration: ip.Name, Index: ip.Index}
			switch {
			case ip.Err != nil:
				m.Error = ip.Err.Error()
			case ip.Rendered != nil:
				m.ContentType = ip.Rendered.ContentType
				m.Body = string(ip.Rendered.Redacted())
				m.Fields = ip.Rendered.Fields
			default:
				continue // sends nothing
			}
			dn.Messages = append(dn.Messages, m)
		}
		rep.Notifications = append(rep.Notifications, dn)
	}

	for i, rr := range results {
		for _, a := range rr.alerts {
			da := a.report
			if w := byFP[a.fp]; w != nil {
				da.Routes = w.routes
				da.SilencedBy = append(da.SilencedBy, w.silencedBy...)
				da.InhibitedBy = append(da.InhibitedBy, w.inhibitors...)
			} else {
				for _, rm := range pv.Routes(labels.FromMap(da.Labels)) {
					da.Routes = append(da.Routes, DryRunRoute{Route: rm.Route, Receiver: rm.Receiver})
				}
				// A pending alert is not sent, but a silence would
				// already match it.
				da.SilencedBy = append(da.SilencedBy, silencedBy(o.Silences, at, labels.FromMap(da.Labels))...)
			}
			rep.Rules[i].Alerts = append(rep.Rules[i].Alerts, da)
		}
	}
	return rep, nil
}

// silencedBy are the silences of sils that mute lset at at; silences that
// do not compile mute nothing (Preview reports them).
func silencedBy(sils []*silences.Silence, at time.Time, lset labels.Labels) []string {
	m, err := newSilenceMuter(sils, at)
	if err != nil {
		return nil
	}
	return m.Mutes(lset)
}

// ruleRun is the outcome of replaying one rule.
type ruleRun struct {
	interval, offset time.Duration
	windowStart      *time.Time
	err              error
	alerts           []ruleAlert    // pending and firing, sorted by labels
	firing           []*alert.Alert // as sent at At
}

type ruleAlert struct {
	fp     uint64
	report DryRunAlert
}

// captureSink keeps what the evaluator sends.
type captureSink struct {
	mu     sync.Mutex
	alerts []*alert.Alert
}

// Send implements eval.Sink.
func (s *captureSink) Send(alerts ...*alert.Alert) {
	s.mu.Lock()
	s.alerts = append(s.alerts, alerts...)
	s.mu.Unlock()
}

// replayRule evaluates rule r of group g at every step of its window, the
// last one at at, with the daemon's rule manager and alert state machine
// (see DryRun).
func replayRule(ctx context.Context, l *loaded, rc *rangeClient, g *rules.Group, r rules.Rule, at time.Time, logger *slog.Logger) ruleRun {
	rr := ruleRun{interval: g.Interval, offset: l.settings.DefaultQueryOffset}
	if rr.interval <= 0 {
		rr.interval = l.settings.DefaultInterval
	}
	if g.QueryOffset != nil {
		rr.offset = *g.QueryOffset
	}
	steps := int64(0)
	if w := r.For + r.KeepFiringFor; w > 0 {
		steps = int64(math.Ceil(float64(w) / float64(rr.interval)))
		start := at.Add(-time.Duration(steps) * rr.interval)
		rr.windowStart = &start
	}

	query := l.ds.Query
	if steps > 0 {
		end := at.Add(-rr.offset)
		data, err := rc.query(ctx, r.Expr, end.Add(-time.Duration(steps)*rr.interval), end, rr.interval)
		if err != nil {
			rr.err = err
			return rr
		}
		query = func(ctx context.Context, q string, ts time.Time) (datasource.Vector, error) {
			if q != r.Expr {
				return l.ds.Query(ctx, q, ts) // a template's query function
			}
			if v, ok := data[ts.UnixMilli()]; ok {
				return v, nil
			}
			return datasource.Vector{}, nil
		}
	}

	// A group of this rule alone: alerting rules of a group do not see
	// each other, and limit applies per rule. Resending at every step
	// makes the last step send every active alert as it is at At.
	single := *g
	single.Rules = []rules.Rule{r}
	settings := l.settings
	settings.ResendDelay = 0
	sink := &captureSink{}
	m := eval.NewManager(eval.ManagerOptions{Query: query, Sink: sink, Logger: logger})
	if err := m.Update(settings, []*rules.Group{&single}); err != nil {
		rr.err = err
		return rr
	}
	grp := m.Groups()[0]
	for k := steps; k >= 0; k-- {
		if k == 0 {
			sink.alerts = nil
		}
		grp.Eval(ctx, at.Add(-time.Duration(k)*rr.interval))
	}
	st := grp.Status().Rules[0]
	if st.LastError != "" {
		rr.err = errors.New(st.LastError)
		return rr
	}
	for _, a := range sink.alerts {
		if !a.Resolved(at) {
			rr.firing = append(rr.firing, a)
		}
	}
	for _, a := range st.Alerts {
		lset := withExternalLabels(a.Labels, settings.ExternalLabels)
		fp := alert.Fingerprint(lset)
		da := DryRunAlert{
			State:            a.State.String(),
			Since:            a.ActiveAt.UTC(),
			SinceWindowStart: rr.windowStart != nil && !a.ActiveAt.After(*rr.windowStart),
			Value:            strconv.FormatFloat(a.Value, 'f', -1, 64),
			Fingerprint:      fingerprint(fp),
			Labels:           lset.Map(),
			Annotations:      a.Annotations.Map(),
			Routes:           []DryRunRoute{},
			SilencedBy:       []string{},
			InhibitedBy:      []string{},
		}
		if !a.FiredAt.IsZero() {
			t := a.FiredAt.UTC()
			da.FiredAt = &t
		}
		if !a.KeepFiringSince.IsZero() {
			t := a.KeepFiringSince.UTC()
			da.KeepFiringSince = &t
		}
		rr.alerts = append(rr.alerts, ruleAlert{fp: fp, report: da})
	}
	slices.SortFunc(rr.alerts, func(a, b ruleAlert) int {
		return labels.Compare(labels.FromMap(a.report.Labels), labels.FromMap(b.report.Labels))
	})
	return rr
}

// withExternalLabels adds the external labels ls lacks, as the evaluator
// does to the alerts it sends.
func withExternalLabels(ls, ext labels.Labels) labels.Labels {
	if ext.IsEmpty() {
		return ls
	}
	b := labels.NewBuilder(ls)
	ext.Range(func(l labels.Label) {
		if ls.Get(l.Name) == "" {
			b.Set(l.Name, l.Value)
		}
	})
	return b.Labels()
}

func fingerprint(fp uint64) string { return fmt.Sprintf("%016x", fp) }

// shownPath is path relative to dir when inside it.
func shownPath(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return path
}

// rangeClient runs range queries (POST /api/v1/query_range) against the
// datasource, with the HTTP settings eval's instant-query client uses.
type rangeClient struct {
	http     *http.Client
	endpoint string // may carry userinfo; never shown
	shown    string
	headers  map[string]string
	host     string
	timeout  time.Duration
	secrets  []string
}

// maxRangeBody bounds a range query's answer.
const maxRangeBody = 256 << 20

func newRangeClient(ds config.DatasourceConfig) (*rangeClient, error) {
	u, err := url.Parse(ds.URL)
	if err != nil {
		return nil, errors.New("invalid datasource URL")
	}
	c := &rangeClient{headers: map[string]string{}, timeout: time.Duration(ds.Timeout)}
	if c.timeout <= 0 {
		c.timeout = datasource.DefaultTimeout
	}
	if pw, ok := u.User.Password(); ok {
		c.secrets = append(c.secrets, pw)
	}
	hc := ds.HTTPConfig
	if hc.BasicAuth != nil {
		c.secrets = append(c.secrets, string(hc.BasicAuth.Password))
	}
	if hc.Authorization != nil {
		a := *hc.Authorization // Validate edits it
		hc.Authorization = &a
		c.secrets = append(c.secrets, string(a.Credentials))
	}
	if hc.OAuth2 != nil {
		c.secrets = append(c.secrets, string(hc.OAuth2.ClientSecret))
	}
	c.secrets = append(c.secrets, string(hc.BearerToken))
	var opts []commoncfg.HTTPClientOption
	for k, v := range ds.Headers {
		c.secrets = append(c.secrets, v)
		if k = http.CanonicalHeaderKey(k); k == "Host" {
			c.host = v
		} else {
			c.headers[k] = v
		}
	}
	if _, ok := c.headers["User-Agent"]; !ok {
		opts = append(opts, commoncfg.WithUserAgent("alertd"))
	}
	if err := hc.Validate(); err != nil {
		return nil, notify.Redact(fmt.Errorf("http_config: %w", err), c.secrets...)
	}
	if c.http, err = commoncfg.NewClientFromConfig(hc, "datasource", opts...); err != nil {
		return nil, notify.Redact(fmt.Errorf("http_config: %w", err), c.secrets...)
	}
	ep := u.JoinPath("api", "v1", "query_range")
	c.endpoint = ep.String()
	shown := *ep
	shown.User, shown.RawQuery, shown.Fragment = nil, "", ""
	c.shown = shown.String()
	return c, nil
}

// query runs q over [start, end] every step and returns the vector of
// each step, by Unix milliseconds.
func (c *rangeClient) query(ctx context.Context, q string, start, end time.Time, step time.Duration) (map[int64]datasource.Vector, error) {
	data, err := c.do(ctx, q, start, end, step)
	return data, notify.Redact(err, c.secrets...)
}

func (c *rangeClient) do(ctx context.Context, q string, start, end time.Time, step time.Duration) (map[int64]datasource.Vector, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, fmt.Errorf("range query timed out after %s", c.timeout))
	defer cancel()
	secs := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64) }
	form := url.Values{
		"query":   {q},
		"start":   {secs(start)},
		"end":     {secs(end)},
		"step":    {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
		"timeout": {strconv.FormatFloat(c.timeout.Seconds(), 'f', -1, 64)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("range query failed: build request")
	}
	for k, v := range c.headers {
		req.Header[k] = []string{v}
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("range query failed: POST %s: %w", c.shown, context.Cause(ctx))
		}
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // it quotes the URL, with its userinfo
		}
		return nil, fmt.Errorf("range query failed: POST %s: %w", c.shown, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRangeBody)).Decode(&r); err != nil {
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("range query failed: HTTP %s", resp.Status)
		}
		return nil, fmt.Errorf("range query failed: invalid response body (HTTP %d): %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("range query failed: %s (HTTP %d): %s", r.ErrorType, resp.StatusCode, r.Error)
	}
	if r.Data.ResultType != model.ValMatrix.String() {
		return nil, fmt.Errorf("range query failed: result is not a matrix (got %s)", r.Data.ResultType)
	}
	var m model.Matrix
	if err := json.Unmarshal(r.Data.Result, &m); err != nil {
		return nil, fmt.Errorf("range query failed: invalid matrix: %w", err)
	}
	out := make(map[int64]datasource.Vector)
	for _, ss := range m {
		if len(ss.Histograms) > 0 {
			return nil, fmt.Errorf("native histogram results are not supported (series %s)", ss.Metric)
		}
		b := labels.NewScratchBuilder(len(ss.Metric))
		for k, v := range ss.Metric {
			if v != "" { // as the instant-query client: an empty value is no label
				b.Add(string(k), string(v))
			}
		}
		b.Sort()
		ls := b.Labels()
		for _, sp := range ss.Values {
			ts := int64(sp.Timestamp)
			out[ts] = append(out[ts], datasource.Sample{Metric: ls, Value: float64(sp.Value)})
		}
	}
	return out, nil
}
