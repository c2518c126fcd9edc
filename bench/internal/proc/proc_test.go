package proc

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startSleep starts sleep with a marker argument and stops it when the
// test ends.
func startSleep(t *testing.T, marker string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sleep", "30", marker)
	// GNU sleep sums its arguments: the marker is a valid 0-second
	// interval that makes the command line unique.
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func TestChildWithArg(t *testing.T) {
	a := startSleep(t, "0.0001")
	b := startSleep(t, "0.0002")
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arg  string
		want int
	}{{"0.0001", a.Process.Pid}, {"0.0002", b.Process.Pid}} {
		if got, err := ChildWithArg(bin, tc.arg); err != nil || got != tc.want {
			t.Errorf("ChildWithArg(%q) = %d, %v; want %d", tc.arg, got, err, tc.want)
		}
	}
	if _, err := ChildWithArg(bin, "30"); err == nil || !strings.Contains(err.Error(), "2 child processes") {
		t.Errorf("ChildWithArg(shared argument) = %v, want an error naming both", err)
	}
	if _, err := ChildWithArg(bin, "absent"); err == nil || !strings.Contains(err.Error(), `"absent"`) {
		t.Errorf("ChildWithArg(absent) = %v, want an error naming the argument", err)
	}
}

func TestMeasure(t *testing.T) {
	cmd := startSleep(t, "0.0003")
	u, err := Measure(t.Context(), 50*time.Millisecond, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 1 || u[0].Elapsed < 50*time.Millisecond || u[0].PeakRSS <= 0 || u[0].CPU < 0 {
		t.Errorf("Measure = %+v, want one usage over at least 50ms with a peak RSS", u)
	}
	if u[0].PerMinute() != u[0].Cores()*60 {
		t.Errorf("PerMinute %v is not 60 × Cores %v", u[0].PerMinute(), u[0].Cores())
	}
	if (Usage{}).Cores() != 0 {
		t.Error("Cores of an empty window is not 0")
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := Measure(t.Context(), time.Millisecond, cmd.Process.Pid); err == nil {
		t.Error("Measure of a process that is gone: no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Measure(ctx, time.Hour, startSleep(t, "0.0004").Process.Pid); err == nil {
		t.Error("Measure with an ended context: no error")
	}
}
