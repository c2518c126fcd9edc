package templates

import (
	"context"
	"testing"
)

var benchTemplates = []struct {
	name string
	text string
	fast bool
}{
	{name: "constant", text: "Instance is down for more than 5 minutes.", fast: true},
	{name: "labels", text: "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes.", fast: true},
	{name: "value", text: "Value is {{ $value }}", fast: true},
	{name: "value_humanize", text: "Filesystem on {{ $labels.instance }} has {{ $value | humanize }}B left.", fast: true},
	{name: "value_humanizeDuration", text: "Up for {{ $value | humanizeDuration }}", fast: true},
	{name: "value_humanizePercentage", text: "{{ $labels.path }} is {{ $value | humanizePercentage }} full", fast: true},
	{name: "value_printf", text: `{{ printf "%.2f" $value }}% used on {{ $labels.instance }}`, fast: true},
	{name: "printf_generic", text: `{{ printf "%6.2f" $value }}% used on {{ $labels.instance }}`, fast: true},
	{name: "reReplaceAll", text: `Host {{ reReplaceAll ":.*" "" $labels.instance }} is down`, fast: true},
	{name: "fallback_printf", text: `{{ if gt $value 80.0 }}{{ printf "%.2f" $value }}% used{{ end }}`, fast: false},
	{name: "fallback_range_labels", text: `{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}`, fast: false},
	{name: "fallback_query", text: `{{ with query "scalar" }}{{ . | first | value | humanize }}{{ end }}`, fast: false},
}

func BenchmarkExecute(b *testing.B) {
	env := testEnv(context.Background())
	d := testData(86.54321)
	for _, bt := range benchTemplates {
		b.Run(bt.name, func(b *testing.B) {
			tmpl, err := Compile(testName, bt.text)
			if err != nil {
				b.Fatal(err)
			}
			if tmpl.isFast() != bt.fast {
				b.Fatalf("isFast() = %v, want %v", tmpl.isFast(), bt.fast)
			}
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Execute(buf[:0], env, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrometheusExpand is the reference: Prometheus parses and
// executes per expansion.
func BenchmarkPrometheusExpand(b *testing.B) {
	env := testEnv(context.Background())
	d := testData(86.54321)
	for _, bt := range benchTemplates {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := prometheusExpand(b, bt.text, env, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, bt := range benchTemplates {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(testName, bt.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
