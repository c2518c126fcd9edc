package eval

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

// BenchmarkAlertingRuleEval is one evaluation of a rule whose query returns
// n series: the state update plus two templated annotations, per alert.
// "steady" re-evaluates alerts that already exist (the common case);
// "changing" does too, with a new value, so a new annotation, every time;
// "new" creates every alert.
func BenchmarkAlertingRuleEval(b *testing.B) {
	for _, n := range []int{10_000} {
		vec := make(datasource.Vector, n)
		for i := range vec {
			vec[i] = datasource.Sample{
				Metric: labels.FromStrings("__name__", "node_up", "instance", "host-"+strconv.Itoa(i)+":9100", "job", "node", "region", "eu-1"),
				Value:  float64(i),
			}
		}
		query := func(context.Context, string, time.Time) (datasource.Vector, error) { return vec, nil }
		rule := rules.Rule{
			Alert:  "NodeDown",
			Expr:   "node_up == 0",
			For:    5 * time.Minute,
			Labels: map[string]string{"severity": "page"},
			Annotations: map[string]string{
				"summary":     "Instance {{ $labels.instance }} of job {{ $labels.job }} is down",
				"description": "The value is {{ $value | humanize }}",
			},
		}
		newRule := func(b *testing.B) *AlertingRule {
			r, err := NewAlertingRule(&rules.Group{Name: "g"}, &rule, RuleSettings{})
			if err != nil {
				b.Fatal(err)
			}
			return r
		}
		b.Run("series="+strconv.Itoa(n)+"/steady", func(b *testing.B) {
			r := newRule(b)
			ts := time.Unix(1_700_000_000, 0)
			if err := r.Eval(b.Context(), 0, ts, query, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ts = ts.Add(time.Minute)
				if err := r.Eval(b.Context(), 0, ts, query, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
		})
		// Every value changes at every evaluation, so the $value annotation
		// is rebuilt each time.
		b.Run("series="+strconv.Itoa(n)+"/changing", func(b *testing.B) {
			vec2 := make(datasource.Vector, n)
			for i := range vec2 {
				vec2[i] = datasource.Sample{Metric: vec[i].Metric, Value: float64(i) + 0.5}
			}
			flip := false
			changing := func(context.Context, string, time.Time) (datasource.Vector, error) {
				flip = !flip
				if flip {
					return vec2, nil
				}
				return vec, nil
			}
			r := newRule(b)
			ts := time.Unix(1_700_000_000, 0)
			if err := r.Eval(b.Context(), 0, ts, changing, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ts = ts.Add(time.Minute)
				if err := r.Eval(b.Context(), 0, ts, changing, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
		})
		b.Run("series="+strconv.Itoa(n)+"/new", func(b *testing.B) {
			ts := time.Unix(1_700_000_000, 0)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				r := newRule(b)
				b.StartTimer()
				if err := r.Eval(b.Context(), 0, ts, query, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
		})
	}
}
