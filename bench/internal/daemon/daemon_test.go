package daemon

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWaitReadyAndStop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	d, err := Start(t.Context(), "sleeper", nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitReady(t.Context(), srv.URL); err != nil {
		t.Errorf("WaitReady = %v", err)
	}
	if err := d.Stop(); err != nil {
		t.Errorf("Stop = %v, want nil after SIGTERM", err)
	}
	if err := d.Stop(); err != nil {
		t.Errorf("second Stop = %v", err)
	}
}

func TestExitBeforeReady(t *testing.T) {
	d, err := Start(t.Context(), "failer", nil, "sh", "-c", "echo cannot start; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = d.WaitReady(t.Context(), "http://127.0.0.1:1/-/ready")
	if err == nil || !strings.Contains(err.Error(), "failer exited before it was ready") || !strings.Contains(err.Error(), "cannot start") {
		t.Errorf("WaitReady = %v, want the exit and the output", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v to notice the exit", time.Since(start))
	}
	if err := d.Stop(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Stop = %v, want the exit status", err)
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("a", 5); got != "a" {
		t.Errorf("Tail = %q", got)
	}
}

func TestWithOutput(t *testing.T) {
	ctx := t.Context()
	d, err := Start(ctx, "echo", nil, "sh", "-c", "echo first; echo last")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("sh did not exit")
	}
	base := errors.New("it failed")
	err = d.WithOutput(base)
	if !errors.Is(err, base) || !strings.Contains(err.Error(), "it failed; output:\n") || !strings.Contains(err.Error(), "last") {
		t.Errorf("WithOutput: %q", err)
	}
}
