package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/eval/templates"
	"github.com/alertd/alertd/rules"
)

// AlertState is the state of an alert, as in Prometheus.
type AlertState int

// The alert states. The zero value is inactive.
const (
	StateInactive AlertState = iota
	StatePending
	StateFiring
)

func (s AlertState) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	default:
		return "inactive"
	}
}

// resolvedRetention is how long a resolved alert is kept, and re-sent, after
// it resolved (Prometheus's rules.resolvedRetention).
const resolvedRetention = 15 * time.Minute

// ErrDuplicateAlertLabelSet is Prometheus's error for two result series that
// end up with the same labels once the alert labels are applied.
var ErrDuplicateAlertLabelSet = errors.New("vector contains metrics with the same labelset after applying alert labels")

// Alert is the state of one alert of a rule. All times are evaluation
// timestamps, never wall-clock times.
type Alert struct {
	State           AlertState
	Labels          labels.Labels
	Annotations     labels.Labels
	Value           float64
	ActiveAt        time.Time
	FiredAt         time.Time
	ResolvedAt      time.Time
	LastSentAt      time.Time
	ValidUntil      time.Time
	KeepFiringSince time.Time

	seen uint64 // the evaluation sequence in which the series was last present
}

func (a *Alert) needsSending(ts time.Time, resendDelay time.Duration) bool {
	if a.State == StatePending {
		return false
	}
	// A newly resolved alert is sent at once.
	if a.ResolvedAt.After(a.LastSentAt) {
		return true
	}
	return a.LastSentAt.Add(resendDelay).Before(ts)
}

// Health is a rule's health, as in Prometheus's API.
type Health string

// The rule healths.
const (
	HealthUnknown Health = "unknown"
	HealthGood    Health = "ok"
	HealthBad     Health = "err"
)

type templated struct {
	name string
	text string
	tmpl *templates.Template // nil when the text has no actions
}

// RuleSettings are the evaluation settings rules take from alertd.yml.
type RuleSettings struct {
	ExternalLabels labels.Labels
	ExternalURL    string
	Logger         *slog.Logger
}

// AlertingRule is one alerting rule and the state of its alerts.
type AlertingRule struct {
	name          string
	expr          string
	holdDuration  time.Duration
	keepFiringFor time.Duration
	labels        []templated // group and rule labels, sorted by name
	annotations   []templated // sorted by name
	rawLabels     labels.Labels
	rawAnnots     labels.Labels
	settings      RuleSettings
	generatorURL  string
	logger        *slog.Logger

	// The evaluating goroutine is the only writer of active and status; it
	// writes under mu, and readers (the API) read under mu.
	mu             sync.Mutex
	active         map[uint64]*Alert
	seq            uint64
	health         Health
	lastError      error
	lastEvaluation time.Time
	evalDuration   time.Duration
	// dirty says the alerts changed in a way a restart must keep (an
	// alert appeared, went, changed state or was sent) since the group
	// last saved its state; pending counts the pending alerts.
	dirty   bool
	pending int

	// Scratch space reused across evaluations.
	lb       *labels.Builder
	sb       labels.ScratchBuilder
	buf      []byte
	cands    []candidate
	seenHash map[uint64]struct{}
	data     templates.Data
	env      templates.Env
	annVals  []string
}

type candidate struct {
	hash        uint64
	labels      labels.Labels
	annotations labels.Labels
	keepAnnots  bool // the existing alert's annotations are unchanged
	value       float64
	existing    *Alert
}

// NewAlertingRule compiles the templates of rule r of group g.
func NewAlertingRule(g *rules.Group, r *rules.Rule, s RuleSettings) (*AlertingRule, error) {
	ar := &AlertingRule{
		name:          r.Alert,
		expr:          r.Expr,
		holdDuration:  r.For,
		keepFiringFor: r.KeepFiringFor,
		settings:      s,
		active:        map[uint64]*Alert{},
		health:        HealthUnknown,
		lb:            labels.NewBuilder(labels.EmptyLabels()),
		seenHash:      map[uint64]struct{}{},
		logger:        s.Logger,
	}
	if ar.logger == nil {
		ar.logger = slog.New(slog.DiscardHandler)
	}
	ar.generatorURL = s.ExternalURL + "/graph?g0.expr=" + url.QueryEscape(r.Expr) + "&g0.tab=1"
	tmplName := "__alert_" + r.Alert
	merged := map[string]string{}
	for k, v := range g.Labels {
		merged[k] = v
	}
	for k, v := range r.Labels {
		merged[k] = v
	}
	for _, k := range sortedKeys(merged) {
		t, err := compile(tmplName, merged[k])
		if err != nil {
			return nil, fmt.Errorf("label %q: %w", k, err)
		}
		ar.labels = append(ar.labels, templated{name: k, text: merged[k], tmpl: t})
	}
	ar.rawLabels = labels.FromMap(merged)
	for _, k := range sortedKeys(r.Annotations) {
		t, err := compile(tmplName, r.Annotations[k])
		if err != nil {
			return nil, fmt.Errorf("annotation %q: %w", k, err)
		}
		ar.annotations = append(ar.annotations, templated{name: k, text: r.Annotations[k], tmpl: t})
	}
	ar.rawAnnots = labels.FromMap(r.Annotations)
	ar.annVals = make([]string, len(ar.annotations))
	return ar, nil
}

func compile(name, text string) (*templates.Template, error) {
	t, err := templates.Compile(name, text)
	if err != nil {
		return nil, err
	}
	if t.Constant() {
		return nil, nil
	}
	return t, nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Name returns the alert name.
func (r *AlertingRule) Name() string { return r.name }

// Query returns the expression sent to the datasource.
func (r *AlertingRule) Query() string { return r.expr }

// Eval evaluates the rule at the group timestamp ts, exactly as Prometheus's
// AlertingRule.Eval: the query runs at ts-queryOffset; every state time is
// ts. On error the state of the alerts is left as it was.
func (r *AlertingRule) Eval(ctx context.Context, queryOffset time.Duration, ts time.Time, query datasource.QueryFunc, limit int) error {
	res, err := query(ctx, r.expr, ts.Add(-queryOffset))
	if err != nil {
		return err
	}

	r.env = templates.Env{Ctx: ctx, TS: ts, Query: query, ExternalURL: r.settings.ExternalURL}
	r.data.ExternalLabels = r.settings.ExternalLabels
	r.data.ExternalURL = r.settings.ExternalURL
	r.cands = r.cands[:0]
	clear(r.seenHash)
	var expandErr error
	for i := range res {
		smpl := &res[i]
		r.data.Labels = smpl.Metric
		r.data.Value = smpl.Value

		r.lb.Reset(smpl.Metric)
		r.lb.Del(model.MetricNameLabel)
		for _, l := range r.labels {
			v := l.text
			if l.tmpl != nil {
				var e error
				v, e = r.expand(l.tmpl)
				expandErr = cmpErr(expandErr, e)
			}
			r.lb.Set(l.name, v) // an empty value deletes the label
		}
		r.lb.Set(labels.AlertName, r.name)
		lbs := r.lb.Labels()
		h := lbs.Hash()
		if _, dup := r.seenHash[h]; dup {
			r.env = templates.Env{}
			return ErrDuplicateAlertLabelSet
		}
		r.seenHash[h] = struct{}{}

		c := candidate{hash: h, labels: lbs, value: smpl.Value}
		if a := r.active[h]; a != nil && a.State != StateInactive {
			c.existing = a
		}
		var e error
		c.annotations, c.keepAnnots, e = r.expandAnnotations(c.existing)
		expandErr = cmpErr(expandErr, e)
		r.cands = append(r.cands, c)
	}
	r.env = templates.Env{}
	if expandErr != nil {
		r.logger.Warn("expanding alert template failed", "alertname", r.name, "err", expandErr)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	if len(r.active) == 0 && len(r.cands) > 0 {
		r.active = make(map[uint64]*Alert, len(r.cands))
	}
	for i := range r.cands {
		c := &r.cands[i]
		if a := c.existing; a != nil {
			a.Value = c.value
			if !c.keepAnnots {
				a.Annotations = c.annotations
			}
			a.seen = r.seq
			continue
		}
		// New, or a retained resolved alert: a fresh pending alert.
		r.dirty = true
		r.active[c.hash] = &Alert{
			State:       StatePending,
			Labels:      c.labels,
			Annotations: c.annotations,
			Value:       c.value,
			ActiveAt:    ts,
			seen:        r.seq,
		}
	}
	clear(r.cands) // drop references for the collector
	r.cands = r.cands[:0]

	numActivePending := 0
	r.pending = 0
	for h, a := range r.active {
		if a.seen != r.seq {
			keepFiring := false
			if a.State == StateFiring && r.keepFiringFor > 0 {
				if a.KeepFiringSince.IsZero() {
					a.KeepFiringSince = ts
					r.dirty = true
				}
				keepFiring = ts.Sub(a.KeepFiringSince) < r.keepFiringFor
			}
			if a.State == StatePending || (!a.ResolvedAt.IsZero() && ts.Sub(a.ResolvedAt) > resolvedRetention) {
				delete(r.active, h)
				r.dirty = true
			}
			if a.State != StateInactive && !keepFiring {
				a.State = StateInactive
				a.ResolvedAt = ts
				r.dirty = true
			}
			if !keepFiring {
				continue
			}
		} else if !a.KeepFiringSince.IsZero() {
			a.KeepFiringSince = time.Time{}
			r.dirty = true
		}
		numActivePending++
		if a.State == StatePending && ts.Sub(a.ActiveAt) >= r.holdDuration {
			a.State = StateFiring
			a.FiredAt = ts
			r.dirty = true
		}
		if a.State == StateFiring && ts.Sub(a.ActiveAt) < r.holdDuration {
			// Only after a reload that lengthened for.
			a.State = StatePending
			a.FiredAt = time.Time{}
			a.LastSentAt = time.Time{}
			a.KeepFiringSince = time.Time{}
			r.dirty = true
		}
		if a.State == StatePending {
			r.pending++
		}
	}
	if limit > 0 && numActivePending > limit {
		r.active = map[uint64]*Alert{}
		r.dirty = true
		r.pending = 0
		return fmt.Errorf("exceeded limit of %d with %d alerts", limit, numActivePending)
	}
	return nil
}

func cmpErr(old, e error) error {
	if old != nil {
		return old
	}
	return e
}

// expand runs one template for the current sample and returns its text, or
// Prometheus's error text.
func (r *AlertingRule) expand(t *templates.Template) (string, error) {
	var err error
	r.buf, err = t.Execute(r.buf[:0], &r.env, &r.data)
	if err != nil {
		return "<error expanding template: " + err.Error() + ">", err
	}
	return string(r.buf), nil
}

// expandAnnotations expands the annotations for the current sample. When
// they equal those of the existing alert it returns keep=true and allocates
// nothing.
func (r *AlertingRule) expandAnnotations(existing *Alert) (labels.Labels, bool, error) {
	if len(r.annotations) == 0 {
		return labels.EmptyLabels(), existing != nil, nil
	}
	same := existing != nil
	var firstErr error
	for i, an := range r.annotations {
		if an.tmpl == nil {
			r.annVals[i] = an.text
			continue
		}
		var err error
		r.buf, err = an.tmpl.Execute(r.buf[:0], &r.env, &r.data)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			r.buf = append(r.buf[:0], "<error expanding template: "...)
			r.buf = append(r.buf, err.Error()...)
			r.buf = append(r.buf, '>')
		}
		if same {
			if existing.Annotations.Get(an.name) == string(r.buf) {
				continue
			}
			// The first difference: materialise the earlier, equal values.
			same = false
			for j := range i {
				if r.annotations[j].tmpl != nil {
					r.annVals[j] = existing.Annotations.Get(r.annotations[j].name)
				}
			}
		}
		r.annVals[i] = string(r.buf)
	}
	if same {
		return labels.EmptyLabels(), true, firstErr
	}
	r.sb.Reset()
	for i, an := range r.annotations {
		r.sb.Add(an.name, r.annVals[i])
	}
	return r.sb.Labels(), false, firstErr
}

// sendAlerts returns the alerts to send at ts, as Prometheus's sendAlerts,
// and records them as sent.
func (r *AlertingRule) sendAlerts(ts time.Time, resendDelay, interval time.Duration, out []*alert.Alert) []*alert.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.active {
		if !a.needsSending(ts, resendDelay) {
			continue
		}
		a.LastSentAt = ts
		r.dirty = true
		// Allow for two Eval or Alertmanager send failures.
		a.ValidUntil = ts.Add(4 * max(interval, resendDelay))
		out = append(out, r.toAlert(a))
	}
	return out
}

func (r *AlertingRule) toAlert(a *Alert) *alert.Alert {
	lbs := a.Labels
	if !r.settings.ExternalLabels.IsEmpty() {
		b := labels.NewBuilder(lbs)
		r.settings.ExternalLabels.Range(func(l labels.Label) {
			if a.Labels.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
		lbs = b.Labels()
	}
	out := &alert.Alert{
		Labels:       lbs,
		Annotations:  a.Annotations,
		StartsAt:     a.FiredAt,
		GeneratorURL: r.generatorURL,
	}
	if !a.ResolvedAt.IsZero() {
		out.EndsAt = a.ResolvedAt
	} else {
		out.EndsAt = a.ValidUntil
	}
	return out
}

func (r *AlertingRule) setStatus(err error, ts time.Time, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastEvaluation = ts
	r.evalDuration = d
	r.lastError = err
	if err != nil {
		r.health = HealthBad
	} else {
		r.health = HealthGood
	}
}

// copyState takes over the alerts of a rule of the previous configuration,
// as Prometheus's Group.CopyState does for rules of the same name and
// labels. The old rule must not be evaluated any more.
func (r *AlertingRule) copyState(old *AlertingRule) {
	old.mu.Lock()
	defer old.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	// As in Prometheus, only the alerts move: health and last error are
	// those of the new rule, unknown until it is evaluated.
	r.active = old.active
	r.seq = old.seq
	r.pending = old.pending
	r.dirty = true // saved again, under the new group's key
}
