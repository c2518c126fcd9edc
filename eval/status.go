package eval

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// GroupStatus is a snapshot of a group for the API.
type GroupStatus struct {
	Name           string
	File           string
	Interval       time.Duration
	QueryOffset    time.Duration
	Limit          int
	Rules          []RuleStatus
	LastEvaluation time.Time
	EvaluationTime time.Duration
}

// RuleStatus is a snapshot of a rule for the API.
type RuleStatus struct {
	Type           string // "alerting" or "recording"
	Name           string
	Query          string
	Duration       time.Duration
	KeepFiringFor  time.Duration
	Labels         labels.Labels // unexpanded
	Annotations    labels.Labels // unexpanded
	State          string        // the highest state of its alerts; "unknown" before the first evaluation
	Health         Health
	LastError      string
	LastEvaluation time.Time
	EvaluationTime time.Duration
	Alerts         []AlertStatus
}

// AlertStatus is a snapshot of an active (pending or firing) alert.
type AlertStatus struct {
	Labels          labels.Labels
	Annotations     labels.Labels
	State           AlertState
	ActiveAt        time.Time
	FiredAt         time.Time
	KeepFiringSince time.Time
	Value           float64
}

// Status returns a snapshot of every group, sorted by file and name.
func (m *Manager) Status() []GroupStatus {
	groups := m.Groups()
	out := make([]GroupStatus, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.Status())
	}
	return out
}

// Status returns a snapshot of the group.
func (g *Group) Status() GroupStatus {
	g.mu.Lock()
	gs := GroupStatus{
		Name:           g.name,
		File:           g.file,
		Interval:       g.interval,
		QueryOffset:    g.queryOffset,
		Limit:          g.limit,
		LastEvaluation: g.lastEvaluation,
		EvaluationTime: g.evalDuration,
	}
	g.mu.Unlock()
	for _, r := range g.order {
		switch r := r.(type) {
		case *AlertingRule:
			gs.Rules = append(gs.Rules, r.status())
		case *RecordingRule:
			gs.Rules = append(gs.Rules, RuleStatus{
				Type:      "recording",
				Name:      r.name,
				Query:     r.expr,
				Labels:    r.labels,
				State:     "unknown",
				Health:    HealthUnknown,
				LastError: NotEvaluatedError,
			})
		}
	}
	return gs
}

func (r *AlertingRule) status() RuleStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := RuleStatus{
		Type:           "alerting",
		Name:           r.name,
		Query:          r.expr,
		Duration:       r.holdDuration,
		KeepFiringFor:  r.keepFiringFor,
		Labels:         r.rawLabels,
		Annotations:    r.rawAnnots,
		Health:         r.health,
		LastEvaluation: r.lastEvaluation,
		EvaluationTime: r.evalDuration,
	}
	if r.lastError != nil {
		rs.LastError = r.lastError.Error()
	}
	state := StateInactive
	for _, a := range r.active {
		if a.State == StateInactive {
			continue
		}
		state = max(state, a.State)
		rs.Alerts = append(rs.Alerts, AlertStatus{
			Labels:          a.Labels,
			Annotations:     a.Annotations,
			State:           a.State,
			ActiveAt:        a.ActiveAt,
			FiredAt:         a.FiredAt,
			KeepFiringSince: a.KeepFiringSince,
			Value:           a.Value,
		})
	}
	if r.lastEvaluation.IsZero() && r.health == HealthUnknown {
		rs.State = "unknown"
	} else {
		rs.State = state.String()
	}
	return rs
}

// ActiveAlerts returns the pending and firing alerts of the rule.
func (r *AlertingRule) ActiveAlerts() []AlertStatus { return r.status().Alerts }
