package unittest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"

	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

// Prometheus's names for the series an alerting rule writes.
const (
	alertMetricName         = "ALERTS"
	alertForStateMetricName = "ALERTS_FOR_STATE"
	alertStateLabel         = "alertstate"
)

// errDuplicateRecordingLabelSet is Prometheus's error for a recording rule
// whose results collide once the rule's labels are applied.
var errDuplicateRecordingLabelSet = errors.New("vector contains metrics with the same labelset after applying rule labels")

// ruleGroup is a rule group of the rule files, ready to evaluate.
type ruleGroup struct {
	name        string
	queryOffset time.Duration
	limit       int
	rules       []*evalRule
}

// evalRule is an alerting or a recording rule and what its last evaluation
// left behind.
type evalRule struct {
	name     string
	expr     string
	labels   labels.Labels      // group and rule labels, unexpanded
	alerting *eval.AlertingRule // nil for a recording rule

	lastErr error
	// written holds the series written at the last evaluation, by their
	// labels' bytes, to mark those that go away stale.
	written map[string]labels.Labels
}

// newRuleGroups builds the groups of one test group: alerting rules get
// the test group's external labels and URL.
func newRuleGroups(src []*rules.Group, extLabels labels.Labels, extURL string) ([]*ruleGroup, error) {
	out := make([]*ruleGroup, 0, len(src))
	for _, g := range src {
		rg := &ruleGroup{name: g.Name, limit: g.Limit}
		if g.QueryOffset != nil {
			rg.queryOffset = *g.QueryOffset
		}
		for i := range g.Rules {
			r := &g.Rules[i]
			merged := make(map[string]string, len(g.Labels)+len(r.Labels))
			for k, v := range g.Labels {
				merged[k] = v
			}
			for k, v := range r.Labels {
				merged[k] = v
			}
			er := &evalRule{name: r.Name(), expr: r.Expr, labels: labels.FromMap(merged)}
			if r.Alert != "" {
				ar, err := eval.NewAlertingRule(g, r, eval.RuleSettings{ExternalLabels: extLabels, ExternalURL: extURL})
				if err != nil {
					return nil, &rules.Error{File: g.File, Line: r.Line, Msg: fmt.Sprintf("group %q, rule %q: %v", g.Name, r.Alert, err)}
				}
				er.alerting = ar
			}
			rg.rules = append(rg.rules, er)
		}
		out = append(out, rg)
	}
	return out, nil
}

// newEngine returns an engine with the settings of promtool's test loader: at most
// 10,000 samples per query, 100s timeout, @ and negative offsets on, and
// subqueries without a step use the evaluation interval.
func newEngine(evalInterval time.Duration) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               10000,
		Timeout:                  100 * time.Second,
		NoStepSubqueryIntervalFn: func(int64) int64 { return evalInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
}

// evaluator evaluates rules and queries on one test group's storage.
type evaluator struct {
	store  *memStorage
	engine *promql.Engine
}

// query runs an instant query as Prometheus's rule manager does
// (rules.EngineQueryFunc): a scalar becomes one sample without labels.
func (e *evaluator) query(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.store, nil, qs, t)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	default:
		return nil, errors.New("rule result is not a vector or scalar")
	}
}

// alertQuery is query for alertd's alerting rules and templates. Like
// alertd's datasource, it refuses native histogram results, which alertd
// does not evaluate.
func (e *evaluator) alertQuery(ctx context.Context, qs string, t time.Time) (datasource.Vector, error) {
	vec, err := e.query(ctx, qs, t)
	if err != nil {
		return nil, err
	}
	out := make(datasource.Vector, 0, len(vec))
	hist, first := 0, labels.EmptyLabels()
	for _, s := range vec {
		if s.H != nil {
			if hist == 0 {
				first = s.Metric
			}
			hist++
			continue
		}
		out = append(out, datasource.Sample{Metric: s.Metric, Value: s.F})
	}
	if hist > 0 {
		return nil, fmt.Errorf("native histogram results are not supported (%d series with a histogram sample, first: %s)", hist, first)
	}
	return out, nil
}

// evalGroup evaluates the rules of g at ts in order, as Prometheus's
// Group.Eval: each rule's results are written before the next rule runs,
// series a rule wrote last time and not now get a staleness marker, and a
// rule's error (including a refused write) is kept in lastErr.
func (e *evaluator) evalGroup(ctx context.Context, g *ruleGroup, ts time.Time) {
	qt := ts.Add(-g.queryOffset)
	for _, r := range g.rules {
		var (
			vec promql.Vector
			err error
		)
		if r.alerting != nil {
			err = r.alerting.Eval(ctx, g.queryOffset, ts, e.alertQuery, g.limit)
			if err == nil {
				vec = r.alertSeries(qt)
			}
		} else {
			vec, err = e.record(ctx, r, qt, g.limit)
		}
		r.lastErr = err
		if err != nil {
			continue
		}
		written := make(map[string]labels.Labels, len(vec))
		var buf [1024]byte
		for _, s := range vec {
			if err := e.store.append(s.Metric, s.T, s.F, s.H); err != nil {
				r.lastErr = err
				continue
			}
			written[string(s.Metric.Bytes(buf[:]))] = s.Metric
		}
		for k, lset := range r.written {
			if _, ok := written[k]; !ok {
				// Refused when another rule wrote the series at qt:
				// expected, as in Prometheus.
				_ = e.store.append(lset, timestamp.FromTime(qt), math.Float64frombits(value.StaleNaN), nil)
			}
		}
		r.written = written
	}
}

// record evaluates a recording rule, as Prometheus's RecordingRule.Eval.
func (e *evaluator) record(ctx context.Context, r *evalRule, t time.Time, limit int) (promql.Vector, error) {
	vec, err := e.query(ctx, r.expr, t)
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i := range vec {
		lb.Reset(vec[i].Metric)
		lb.Set(model.MetricNameLabel, r.name)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		vec[i].Metric = lb.Labels()
	}
	if vec.ContainsSameLabelset() {
		return nil, errDuplicateRecordingLabelSet
	}
	if limit > 0 && len(vec) > limit {
		return nil, fmt.Errorf("exceeded limit of %d with %d series", limit, len(vec))
	}
	return vec, nil
}

// alertSeries returns the ALERTS and ALERTS_FOR_STATE samples of the
// rule's pending and firing alerts at t, as Prometheus writes them for a
// rule whose state is restored (promtool marks every rule restored).
func (r *evalRule) alertSeries(t time.Time) promql.Vector {
	active := r.alerting.ActiveAlerts()
	vec := make(promql.Vector, 0, 2*len(active))
	ms := timestamp.FromTime(t)
	for _, a := range active {
		lb := labels.NewBuilder(r.labels)
		a.Labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		lb.Set(labels.AlertName, r.name)
		lb.Set(model.MetricNameLabel, alertMetricName)
		lb.Set(alertStateLabel, a.State.String())
		vec = append(vec, promql.Sample{Metric: lb.Labels(), T: ms, F: 1})

		lb = labels.NewBuilder(r.labels)
		a.Labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		lb.Set(model.MetricNameLabel, alertForStateMetricName)
		lb.Set(labels.AlertName, r.name)
		vec = append(vec, promql.Sample{Metric: lb.Labels(), T: ms, F: float64(a.ActiveAt.Unix())})
	}
	return vec
}
