package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// TestNotifyShort runs the smallest scenario, the short notification load
// (10,000 alerts through Alertmanager and alertd), end to end with real
// binaries; about 20 seconds. The other scenarios run with
// make bench-peers SHORT=1 (under 3 minutes), not under go test.
func TestNotifyShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Alertmanager and alertd for about 20s; go test -short skips it")
	}
	testenv.Binary(t, "prometheus-alertmanager")
	bin := filepath.Join(t.TempDir(), "alertd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/alertd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var log strings.Builder
	h := &harness{alertd: bin, dir: t.TempDir(), log: &log}
	c := newConfig(true)
	start := time.Now()
	n, err := runNotify(t.Context(), h, c.notify)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("notify scenario in %v", time.Since(start).Round(time.Millisecond))
	for _, row := range []notifyRow{n.Alertmanager, n.Alertd} {
		if row.Failure != "" {
			t.Errorf("%s: %s", row.System, row.Failure)
			continue
		}
		if r := row.Result; r.Distinct != c.notify.Alerts || r.Delivered != r.Distinct || r.Ingest <= 0 || r.PeakRSS <= 0 {
			t.Errorf("%s: %+v, want every alert once and figures", row.System, r)
		}
	}
	rep := &report{Notify: n}
	md := rep.Markdown()
	for _, want := range []string{"| Alertmanager | ", "| alertd | ", "ingest throughput, 10,000 alerts: alertd / Alertmanager"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if rep.Failed() || strings.Contains(md, "| FAILED") {
		t.Errorf("report shows a failure:\n%s\nlog:\n%s", md, log.String())
	}
}
