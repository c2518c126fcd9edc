package unittest

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
)

func alert(ls, as map[string]string) labelAndAnnotation {
	return labelAndAnnotation{Labels: labels.FromMap(ls), Annotations: labels.FromMap(as)}
}

func TestExpectedAlertsAddAlertname(t *testing.T) {
	got := expectedAlerts("Up", []expAlert{
		{ExpLabels: map[string]string{"job": "b"}},
		{ExpLabels: nil, ExpAnnotations: map[string]string{"s": "x"}},
		{ExpLabels: map[string]string{"job": "a", "alertname": "Other"}},
	})
	want := []string{
		`{alertname="Up"} {s="x"}`,
		`{alertname="Up", job="a"} {}`,
		`{alertname="Up", job="b"} {}`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if s := got[i].Labels.String() + " " + got[i].Annotations.String(); s != want[i] {
			t.Errorf("alert %d = %s, want %s", i, s, want[i])
		}
	}
}

func TestEqualAlerts(t *testing.T) {
	a := alert(map[string]string{"alertname": "A", "job": "x"}, map[string]string{"summary": "s"})
	b := alert(map[string]string{"alertname": "A", "job": "y"}, nil)
	tests := []struct {
		name     string
		exp, got labelsAndAnnotations
		want     bool
	}{
		{"both empty", nil, nil, true},
		{"same", labelsAndAnnotations{a, b}, labelsAndAnnotations{a, b}, true},
		{"missing", labelsAndAnnotations{a, b}, labelsAndAnnotations{a}, false},
		{"extra", nil, labelsAndAnnotations{a}, false},
		{"twice vs once", labelsAndAnnotations{a, a}, labelsAndAnnotations{a, b}, false},
		{"other annotations", labelsAndAnnotations{a}, labelsAndAnnotations{alert(a.Labels.Map(), map[string]string{"summary": "t"})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := equalAlerts(tt.exp, tt.got); got != tt.want {
				t.Errorf("equalAlerts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAlertMismatchMessage(t *testing.T) {
	up := map[string]string{"alertname": "Up", "job": "a"}
	m := &alertMismatch{
		alertname: "Up",
		evalTime:  300e9,
		exp: labelsAndAnnotations{
			alert(up, map[string]string{"summary": "down", "runbook": "r"}),
			alert(map[string]string{"alertname": "Up", "job": "b"}, nil),
			alert(map[string]string{"alertname": "Up", "job": "c"}, nil),
		},
		got: labelsAndAnnotations{
			alert(up, map[string]string{"summary": "is down"}),
			alert(map[string]string{"alertname": "Up", "job": "d"}, nil),
		},
		other: labelsAndAnnotations{alert(map[string]string{"alertname": "Up", "job": "c"}, nil)},
	}
	want := `    alertname: Up, time: 5m, 
        exp:[
            0:
              Labels:{alertname="Up", job="a"}
              Annotations:{runbook="r", summary="down"},
            1:
              Labels:{alertname="Up", job="b"}
              Annotations:{},
            2:
              Labels:{alertname="Up", job="c"}
              Annotations:{}
            ], 
        got:[
            0:
              Labels:{alertname="Up", job="a"}
              Annotations:{summary="is down"},
            1:
              Labels:{alertname="Up", job="d"}
              Annotations:{}
            ]
        diff (-exp +got):
            ~ {alertname="Up", job="a"} annotations:
                - runbook="r"
                - summary="down"
                + summary="is down"
            - {alertname="Up", job="b"} {}
            - {alertname="Up", job="c"} {} (is pending)
            + {alertname="Up", job="d"} {}`
	if diff := cmp.Diff(want, m.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	m.pending, m.exp, m.got = true, m.got[:0], nil
	if got := m.Error(); !strings.HasPrefix(got, "    alertname: Up, time: 5m, pending alerts: \n        exp:[], \n        got:[]") || strings.Contains(got, "diff") {
		t.Errorf("pending message:\n%s", got)
	}
}

func TestFloatEqual(t *testing.T) {
	next := math.Nextafter(1, 2)
	tests := []struct {
		x, y  float64
		fuzzy bool
		want  bool
	}{
		{1, 1, false, true},
		{1, next, false, false},
		{1, next, true, true},
		{1, math.Nextafter(next, 2), true, false},
		{math.NaN(), math.NaN(), false, false},
		{math.NaN(), math.NaN(), true, false},
		{math.Inf(1), math.Inf(1), false, true},
		{0, math.Copysign(0, -1), false, true},
	}
	for _, tt := range tests {
		if got := floatEqual(tt.x, tt.y, tt.fuzzy); got != tt.want {
			t.Errorf("floatEqual(%v, %v, fuzzy %v) = %v, want %v", tt.x, tt.y, tt.fuzzy, got, tt.want)
		}
	}
}

func TestSampleMismatchMessage(t *testing.T) {
	s := func(l string, v float64, h string) parsedSample {
		lb, err := exprParser.ParseMetric(l)
		if err != nil {
			t.Fatal(err)
		}
		return parsedSample{Labels: lb, Value: v, Histogram: h}
	}
	m := &sampleMismatch{
		expr:     `sum(x)`,
		evalTime: 60e9,
		exp:      []parsedSample{s(`x{a="1"}`, 1, ""), s(`x{a="2"}`, 2, ""), s(`x{a="4"}`, 0, "{{count:1}}")},
		got:      []parsedSample{s(`x{a="1"}`, 1.5, ""), s(`x{a="3"}`, math.NaN(), ""), s(`x{a="4"}`, 0, "{{count:2}}")},
	}
	want := `    expr: "sum(x)", time: 1m,
        exp: {__name__="x", a="1"} 1E+00, {__name__="x", a="2"} 2E+00, {__name__="x", a="4"} {{count:1}}
        got: {__name__="x", a="1"} 1.5E+00, {__name__="x", a="3"} NaN, {__name__="x", a="4"} {{count:2}}
        diff (-exp +got):
            ~ {__name__="x", a="1"}: -1E+00 +1.5E+00
            ~ {__name__="x", a="4"}: -{{count:1}} +{{count:2}}
            - {__name__="x", a="2"} 2E+00
            + {__name__="x", a="3"} NaN`
	if diff := cmp.Diff(want, m.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	empty := &sampleMismatch{expr: "x", exp: nil, got: []parsedSample{s("x", 1, "")}}
	if got := empty.Error(); !strings.Contains(got, "exp: nil\n") {
		t.Errorf("empty expectation not shown as nil:\n%s", got)
	}
}

func TestParseExpSample(t *testing.T) {
	tests := []struct {
		in      expSample
		want    string
		wantErr string
	}{
		{in: expSample{Labels: `x{a="1"}`, Value: 2}, want: `{__name__="x", a="1"} 2E+00`},
		{in: expSample{Labels: `{}`, Value: -1}, want: `{} -1E+00`},
		{in: expSample{Labels: `x`, Value: 7, Histogram: "{{schema:1 count:3 sum:2 buckets:[1 2]}}"}, want: `{__name__="x"} {{schema:1 count:3 sum:2 buckets:[1 2]}}`},
		{in: expSample{Labels: `x{`, Value: 1}, wantErr: `labels "x{"`},
		{in: expSample{Labels: `x`, Histogram: "1 2"}, wantErr: "expected 1 value, got 2"},
		{in: expSample{Labels: `x`, Histogram: "5"}, wantErr: "expected histogram"},
	}
	for _, tt := range tests {
		got, err := parseExpSample(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseExpSample(%+v) error %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("parseExpSample(%+v): %v", tt.in, err)
		case got.String() != tt.want:
			t.Errorf("parseExpSample(%+v) = %s, want %s", tt.in, got.String(), tt.want)
		}
	}
}
