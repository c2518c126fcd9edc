package unittest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// labelAndAnnotation is an alert as promtool compares it: its labels
// (alertname, the rule's and the series' labels) and its annotations.
type labelAndAnnotation struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func (la *labelAndAnnotation) String() string {
	return "Labels:" + la.Labels.String() + "\nAnnotations:" + la.Annotations.String()
}

func (la *labelAndAnnotation) equal(o *labelAndAnnotation) bool {
	return labels.Equal(la.Labels, o.Labels) && labels.Equal(la.Annotations, o.Annotations)
}

// labelsAndAnnotations is a list of alerts, sorted before comparison.
type labelsAndAnnotations []labelAndAnnotation

func (la labelsAndAnnotations) sort() {
	slices.SortFunc(la, func(a, b labelAndAnnotation) int {
		if c := labels.Compare(a.Labels, b.Labels); c != 0 {
			return c
		}
		return labels.Compare(a.Annotations, b.Annotations)
	})
}

// String is promtool's rendering of an alert list.
func (la labelsAndAnnotations) String() string {
	if len(la) == 0 {
		return "[]"
	}
	var s strings.Builder
	s.WriteString("[\n0:" + indentLines("\n"+la[0].String(), "  "))
	for i, l := range la[1:] {
		s.WriteString(",\n" + strconv.Itoa(i+1) + ":" + indentLines("\n"+l.String(), "  "))
	}
	s.WriteString("\n]")
	return s.String()
}

// equalAlerts compares two sorted alert lists as promtool does.
func equalAlerts(exp, got labelsAndAnnotations) bool {
	return slices.EqualFunc(exp, got, func(a, b labelAndAnnotation) bool { return a.equal(&b) })
}

// expectedAlerts turns exp_alerts into alerts: alertname is added to the
// expected labels, as promtool does.
func expectedAlerts(alertname string, exp []expAlert) labelsAndAnnotations {
	out := make(labelsAndAnnotations, 0, len(exp))
	for _, a := range exp {
		m := make(map[string]string, len(a.ExpLabels)+1)
		for k, v := range a.ExpLabels {
			m[k] = v
		}
		m[labels.AlertName] = alertname
		out = append(out, labelAndAnnotation{Labels: labels.FromMap(m), Annotations: labels.FromMap(a.ExpAnnotations)})
	}
	out.sort()
	return out
}

// alertMismatch is an alert_rule_test whose alerts differ from the
// expected ones.
type alertMismatch struct {
	alertname string
	evalTime  model.Duration
	pending   bool // exp_pending_alerts, alertd's
	exp, got  labelsAndAnnotations
	// other are the alerts of alertname in the other state (pending when
	// firing ones are compared), to say so of a missing alert.
	other labelsAndAnnotations
}

// Error is promtool's message (for pending alerts, with "pending alerts"
// after the time), then a diff.
func (m *alertMismatch) Error() string {
	what := ""
	if m.pending {
		what = " pending alerts:"
	}
	return fmt.Sprintf("    alertname: %s, time: %s,%s \n        exp:%v, \n        got:%v",
		m.alertname, m.evalTime, what,
		indentLines(m.exp.String(), "            "), indentLines(m.got.String(), "            ")) +
		diffAlerts(m.exp, m.got, m.other, !m.pending)
}

// diffAlerts lists what differs between two alert lists: an alert expected
// but not got (-), got but not expected (+), and for an alert with the
// expected labels but other annotations (~) the annotations that differ. An
// expected alert found among other, the alerts in the other state, is
// marked as such.
func diffAlerts(exp, got, other labelsAndAnnotations, otherPending bool) string {
	exp, got = slices.Clone(exp), slices.Clone(got)
	// Drop the alerts that are in both.
	for i := 0; i < len(exp); {
		j := slices.IndexFunc(got, func(g labelAndAnnotation) bool { return g.equal(&exp[i]) })
		if j < 0 {
			i++
			continue
		}
		exp = slices.Delete(exp, i, i+1)
		got = slices.Delete(got, j, j+1)
	}
	var lines []string
	for i := 0; i < len(exp); {
		j := slices.IndexFunc(got, func(g labelAndAnnotation) bool { return labels.Equal(g.Labels, exp[i].Labels) })
		if j < 0 {
			i++
			continue
		}
		lines = append(lines, "~ "+exp[i].Labels.String()+" annotations:")
		lines = append(lines, diffLabels(exp[i].Annotations, got[j].Annotations, "    ")...)
		exp = slices.Delete(exp, i, i+1)
		got = slices.Delete(got, j, j+1)
	}
	state := "firing"
	if otherPending {
		state = "pending"
	}
	for _, a := range exp {
		line := "- " + a.Labels.String() + " " + a.Annotations.String()
		if slices.ContainsFunc(other, func(o labelAndAnnotation) bool { return labels.Equal(o.Labels, a.Labels) }) {
			line += " (is " + state + ")"
		}
		lines = append(lines, line)
	}
	for _, a := range got {
		lines = append(lines, "+ "+a.Labels.String()+" "+a.Annotations.String())
	}
	return diffBlock(lines)
}

// diffLabels lists the labels of a and b that differ, by name.
func diffLabels(a, b labels.Labels, indent string) []string {
	names := map[string]bool{}
	a.Range(func(l labels.Label) { names[l.Name] = true })
	b.Range(func(l labels.Label) { names[l.Name] = true })
	var lines []string
	for _, n := range sortedKeys(names) {
		av, bv := a.Get(n), b.Get(n)
		if av == bv {
			continue
		}
		if a.Has(n) {
			lines = append(lines, indent+"- "+n+"="+strconv.Quote(av))
		}
		if b.Has(n) {
			lines = append(lines, indent+"+ "+n+"="+strconv.Quote(bv))
		}
	}
	return lines
}

func diffBlock(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "\n        diff (-exp +got):\n            " + strings.Join(lines, "\n            ")
}

// parsedSample is a sample of a promql_expr_test, expected or got.
type parsedSample struct {
	Labels    labels.Labels
	Value     float64
	Histogram string // the histogram's test expression; "" for a float
}

// String is promtool's rendering of a sample.
func (ps *parsedSample) String() string {
	if ps.Histogram != "" {
		return ps.Labels.String() + " " + ps.Histogram
	}
	return ps.Labels.String() + " " + strconv.FormatFloat(ps.Value, 'E', -1, 64)
}

func parsedSamplesString(pss []parsedSample) string {
	if len(pss) == 0 {
		return "nil"
	}
	parts := make([]string, len(pss))
	for i := range pss {
		parts[i] = pss[i].String()
	}
	return strings.Join(parts, ", ")
}

func sortSamples(ss []parsedSample) {
	slices.SortStableFunc(ss, func(a, b parsedSample) int { return labels.Compare(a.Labels, b.Labels) })
}

// floatEqual is promtool's float comparison: exact (so NaN never equals
// NaN), or with fuzzy_compare within one step of the last mantissa bit.
func floatEqual(x, y float64, fuzzy bool) bool {
	if x == y {
		return true
	}
	return fuzzy && (math.Nextafter(x, math.Inf(-1)) == y || math.Nextafter(x, math.Inf(1)) == y)
}

func equalSamples(exp, got []parsedSample, fuzzy bool) bool {
	return slices.EqualFunc(exp, got, func(a, b parsedSample) bool {
		return labels.Equal(a.Labels, b.Labels) && floatEqual(a.Value, b.Value, fuzzy) && a.Histogram == b.Histogram
	})
}

// sampleMismatch is a promql_expr_test whose result differs from the
// expected samples.
type sampleMismatch struct {
	expr     string
	evalTime model.Duration
	exp, got []parsedSample
	fuzzy    bool
}

// Error is promtool's message, then a diff.
func (m *sampleMismatch) Error() string {
	return fmt.Sprintf("    expr: %q, time: %s,\n        exp: %v\n        got: %v", m.expr, m.evalTime,
		parsedSamplesString(m.exp), parsedSamplesString(m.got)) + m.diff()
}

// diff lists the samples expected but not got (-), got but not expected
// (+), and those with the expected labels but another value (~).
func (m *sampleMismatch) diff() string {
	exp, got := slices.Clone(m.exp), slices.Clone(m.got)
	same := func(a, b parsedSample) bool {
		return floatEqual(a.Value, b.Value, m.fuzzy) && a.Histogram == b.Histogram
	}
	var lines []string
	for i := 0; i < len(exp); {
		j := slices.IndexFunc(got, func(g parsedSample) bool { return labels.Equal(g.Labels, exp[i].Labels) })
		if j < 0 {
			i++
			continue
		}
		if !same(exp[i], got[j]) {
			lines = append(lines, "~ "+exp[i].Labels.String()+": -"+valueString(exp[i])+" +"+valueString(got[j]))
		}
		exp = slices.Delete(exp, i, i+1)
		got = slices.Delete(got, j, j+1)
	}
	for i := range exp {
		lines = append(lines, "- "+exp[i].String())
	}
	for i := range got {
		lines = append(lines, "+ "+got[i].String())
	}
	return diffBlock(lines)
}

func valueString(ps parsedSample) string {
	if ps.Histogram != "" {
		return ps.Histogram
	}
	return strconv.FormatFloat(ps.Value, 'E', -1, 64)
}

// indentLines prefixes every line but the first with indent.
func indentLines(lines, indent string) string {
	return strings.ReplaceAll(lines, "\n", "\n"+indent)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
