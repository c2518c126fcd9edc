package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// The demo with -once must be done in well under a minute: about 20s of
// story (Prometheus's first scrape ~5s, for 4s, keep_firing_for 4s, group
// timers) plus starts and stops.
const (
	testStepTimeout = 30 * time.Second
	testDemoTimeout = 50 * time.Second
)

// TestDemo runs `make demo`'s program as `scripts/demo.sh -once` does and
// checks each step happened, in order, and that nothing it started is left.
func TestDemo(t *testing.T) {
	t.Parallel()
	o := demoOptions(t)
	ctx, cancel := context.WithTimeout(t.Context(), testDemoTimeout)
	defer cancel()
	var out testenv.SyncBuffer
	err := run(ctx, o, &out)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	text := out.String()
	last := -1
	for _, want := range []string{
		"alertd's web UI will be at http://127.0.0.1:",
		"Prometheus is up at",
		"alertd is up",
		"STEP 1/4 pending: DemoTemperatureHigh is pending",
		"STEP 2/4 firing: DemoTemperatureHigh is firing",
		`webhook ← receiver "console": FIRING`,
		"Subject: [FIRING:1] DemoTemperatureHigh",
		"| - DemoTemperatureHigh: lab is at 35°C",
		"STEP 3/4 notified",
		`webhook ← receiver "console": RESOLVED`,
		"Subject: [RESOLVED] DemoTemperatureHigh",
		"STEP 4/4 resolved",
		"demo done",
		"stopping alertd",
		"stopping Prometheus",
	} {
		i := strings.Index(text, want)
		if i < 0 {
			t.Fatalf("the output lacks %q", want)
		}
		if i < last {
			t.Errorf("%q comes before an earlier step", want)
		}
		last = i
	}
	if strings.Contains(text, "DemoSensorMissing") {
		t.Errorf("DemoSensorMissing fired: alertd started before Prometheus had scraped the target")
	}
	checkStopped(t, text)
}

// TestDemoInterrupt stops the demo in the middle, as Ctrl-C does (the
// signal cancels run's context), and checks that alertd, Prometheus and
// the demo's own servers are gone and its directory removed.
func TestDemoInterrupt(t *testing.T) {
	t.Parallel()
	o := demoOptions(t)
	o.once = false
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, &out) }()

	deadline := time.NewTimer(testDemoTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), "heating the lab up") {
		select {
		case err := <-done:
			t.Fatalf("demo ended before alertd was up: %v\n%s", err, out.String())
		case <-deadline.C:
			t.Fatalf("alertd was not up within %v:\n%s", testDemoTimeout, out.String())
		case <-tick.C:
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("an interrupted demo returned %v, want nil", err)
		}
	case <-time.After(2 * stopTimeout):
		t.Fatalf("the demo did not stop within %v of the interruption:\n%s", 2*stopTimeout, out.String())
	}
	text := out.String()
	t.Logf("demo output:\n%s", text)
	if !strings.Contains(text, "interrupted") {
		t.Errorf("the output does not say the demo was interrupted")
	}
	checkStopped(t, text)
}

// demoOptions builds alertd and returns the options scripts/demo.sh
// passes, with -once and a shorter step timeout.
func demoOptions(t *testing.T) options {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Prometheus and alertd for about 20 seconds")
	}
	testenv.Binary(t, "prometheus") // fails with how to install it
	bin := filepath.Join(t.TempDir(), "alertd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/alertd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/alertd: %v\n%s", err, out)
	}
	return options{
		alertd:      bin,
		rules:       "../../examples/rules/demo.yml",
		templates:   "../../examples/templates/*.tmpl",
		once:        true,
		stepTimeout: testStepTimeout,
	}
}

var (
	uiAddr   = regexp.MustCompile(`web UI will be at http://(127\.0\.0\.1:\d+)/`)
	promAddr = regexp.MustCompile(`Prometheus is up at http://(127\.0\.0\.1:\d+)`)
	confDir  = regexp.MustCompile(`--config\.file=(\S+)/alertd\.yml`)
)

// checkStopped checks that nothing answers on the addresses the demo
// printed and that its temporary directory is gone.
func checkStopped(t *testing.T, text string) {
	t.Helper()
	for _, re := range []*regexp.Regexp{uiAddr, promAddr} {
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("the output has no match for %s", re)
			continue
		}
		if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
			_ = c.Close()
			t.Errorf("something still listens on %s after the demo ended", m[1])
		}
	}
	if m := confDir.FindStringSubmatch(text); m != nil {
		if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("the demo's directory %s is still there (%v)", m[1], err)
		}
	}
}
