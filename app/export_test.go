package app

import (
	"context"
	"testing"
	"time"
)

// runForTest runs a until the test ends and returns its base URL once it
// listens.
func runForTest(t *testing.T, a *App) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("alertd run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("alertd did not stop within 30s")
		}
	})
	select {
	case <-a.Started():
	case err := <-done:
		t.Fatalf("alertd stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("alertd did not start within 10s")
	}
	return "http://" + a.Addr()
}

// RunForTest is runForTest for the external test package.
var RunForTest = runForTest
