package unittest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"
)

// stale is the staleness marker as the notation's "stale" produces it.
var stale = math.Float64frombits(value.StaleNaN)

func TestExpandSeries(t *testing.T) {
	type pt struct {
		t int64 // milliseconds
		v float64
	}
	tests := []struct {
		name   string
		values string
		start  time.Time
		step   time.Duration
		want   []pt
	}{
		{name: "plain", values: "1 2 3", step: time.Minute, want: []pt{{0, 1}, {60000, 2}, {120000, 3}}},
		{name: "a+bxN is N+1 samples", values: "1+2x3", step: time.Minute, want: []pt{{0, 1}, {60000, 3}, {120000, 5}, {180000, 7}}},
		{name: "a-bxN goes down", values: "10-3x2", step: time.Minute, want: []pt{{0, 10}, {60000, 7}, {120000, 4}}},
		{name: "axN repeats", values: "5x2", step: time.Minute, want: []pt{{0, 5}, {60000, 5}, {120000, 5}}},
		{name: "negative start", values: "-2+4x3", step: time.Minute, want: []pt{{0, -2}, {60000, 2}, {120000, 6}, {180000, 10}}},
		{name: "gaps leave no sample", values: "1 _ _ 4", step: time.Minute, want: []pt{{0, 1}, {180000, 4}}},
		{name: "_xN is N gaps", values: "1 _x3 2", step: time.Minute, want: []pt{{0, 1}, {240000, 2}}},
		{name: "stale is a staleness marker", values: "1 stale", step: time.Minute, want: []pt{{0, 1}, {60000, stale}}},
		{name: "fractions and exponents", values: "0.5 1e3 -1.5e-2", step: 30 * time.Second, want: []pt{{0, 0.5}, {30000, 1000}, {60000, -0.015}}},
		{name: "start timestamp", values: "1 2", start: time.Unix(1000, 0), step: time.Second, want: []pt{{1000000, 1}, {1001000, 2}}},
		{name: "no values", values: "", step: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start.IsZero() {
				start = time.Unix(0, 0)
			}
			got, err := expandSeries([]inputSeries{{Series: `up{job="a"}`, Values: tt.values}}, start, tt.step)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].lset.String() != `{__name__="up", job="a"}` {
				t.Fatalf("series %v", got)
			}
			s := got[0].samples
			if len(s) != len(tt.want) {
				t.Fatalf("got %d samples %v, want %v", len(s), s, tt.want)
			}
			for i, w := range tt.want {
				if s[i].t != w.t || math.Float64bits(s[i].f) != math.Float64bits(w.v) {
					t.Errorf("sample %d = (%d, %v), want (%d, %v)", i, s[i].t, s[i].f, w.t, w.v)
				}
			}
		})
	}
}

func TestExpandSeriesHistogram(t *testing.T) {
	got, err := expandSeries([]inputSeries{{Series: "h", Values: "{{schema:0 sum:1 count:2 buckets:[1 1]}}+{{sum:1 count:1 buckets:[0 1]}}x2"}}, time.Unix(0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := got[0].samples
	if len(s) != 3 || s[2].fh == nil || s[2].fh.Count != 4 || s[2].fh.Sum != 3 {
		t.Fatalf("got %+v", s)
	}
}

func TestExpandSeriesLaterWins(t *testing.T) {
	got, err := expandSeries([]inputSeries{
		{Series: `up{job="a"}`, Values: "1 1"},
		{Series: `up{job="b"}`, Values: "2"},
		{Series: `up{job="a"}`, Values: "3"},
	}, time.Unix(0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].samples) != 1 || got[0].samples[0].f != 3 {
		t.Fatalf("got %+v, want job a replaced by the later series", got)
	}
}

func TestExpandSeriesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   inputSeries
		want string
	}{
		{"bad value", inputSeries{Series: "up", Values: "1 two"}, `unexpected identifier "two"`},
		{"unclosed braces", inputSeries{Series: `up{job="a"`, Values: "1"}, "parse error"},
		{"no series", inputSeries{Series: "", Values: "1 2"}, "parse error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expandSeries([]inputSeries{{Series: "ok", Values: "1"}, tt.in}, time.Unix(0, 0), time.Minute)
			var se *seriesError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *seriesError", err, err)
			}
			if se.index != 1 || !strings.Contains(se.Error(), tt.want) || !strings.Contains(se.Error(), "input_series") {
				t.Errorf("error %q at %d, want %q at 1", se, se.index, tt.want)
			}
		})
	}
}
