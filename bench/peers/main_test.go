package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseScenarios(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "all", want: allScenarios()},
		{in: "e2e,eval", want: []string{"eval", "e2e"}},
		{in: " notify , notify,", want: []string{"notify"}},
		{in: "eval,bogus", wantErr: `unknown scenario "bogus"`},
		{in: ",", wantErr: "no scenario named"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseScenarios(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("parseScenarios(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		short  bool
		out    string
		outSet bool
		want   string
	}{
		{"full run: the default file", false, "docs/benchmarks.md", false, "docs/benchmarks.md"},
		{"short run: stdout only", true, "docs/benchmarks.md", false, ""},
		{"short run with -out", true, "/tmp/x.md", true, "/tmp/x.md"},
		{"-out empty: stdout only", false, "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := output(tc.short, tc.out, tc.outSet); got != tc.want {
				t.Errorf("output() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	full, short := newConfig(false), newConfig(true)
	if full.eval.Load.Rules != 200 || full.eval.Load.Series != 50 || full.eval.Load.Interval != 5*time.Second ||
		full.evalScale.Load.Rules != 2000 || full.evalScale.Load.Series != 50 || full.notify.Alerts != 100_000 ||
		full.notify.Groups != 10_000 || full.notify.Batch != 1000 {
		t.Errorf("full run %+v is not the issue's loads", full)
	}
	if short.eval.Load.Alerts() >= full.eval.Load.Alerts() || short.evalScale.Load.Alerts() >= full.evalScale.Load.Alerts() ||
		short.eval.Window >= full.eval.Window || short.e2e.Repeats >= full.e2e.Repeats || short.notify.Alerts >= full.notify.Alerts {
		t.Errorf("short run %+v is not smaller than the full one", short)
	}
	for _, c := range []config{full, short} {
		if err := c.notify.Validate(); err != nil {
			t.Error(err)
		}
		for _, e := range []evalSpec{c.eval, c.evalScale} {
			// Every group evaluates before the window, and at least once
			// in it.
			if e.Warmup < min(e.Load.Interval, 5*time.Second) || e.Window < e.Load.Interval || e.Scrape > e.Load.Interval {
				t.Errorf("%+v: warm-up or window shorter than the interval, or scrapes rarer than evaluations", e)
			}
		}
	}
}

func TestRunBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown scenario", []string{"-scenarios", "nope"}, `unknown scenario "nope"`},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"-bogus"}, "-bogus"},
		{"no alertd", []string{"-alertd", "/nonexistent/alertd"}, "make build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
