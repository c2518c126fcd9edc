package testenv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTailBuffer(t *testing.T) {
	b := newTailBuffer(10)
	for _, s := range []string{"line1\n", "line2\n", "line3\n", "line4\n"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := b.String(), "ne3\nline4\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := b.lastLines(1), "line4"; got != want {
		t.Errorf("lastLines(1) = %q, want %q", got, want)
	}
}

func TestPoll(t *testing.T) {
	t.Run("done", func(t *testing.T) {
		calls := 0
		err := poll(t.Context(), func(context.Context) (bool, error) {
			calls++
			return calls == 3, errors.New("not yet")
		})
		if err != nil || calls != 3 {
			t.Fatalf("poll = %v after %d calls, want nil after 3", err, calls)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		err := poll(ctx, func(context.Context) (bool, error) { return false, errors.New("still empty") })
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still empty") {
			t.Fatalf("poll = %v, want deadline exceeded naming the last attempt", err)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		boom := errors.New("boom")
		calls := 0
		err := poll(t.Context(), func(context.Context) (bool, error) {
			calls++
			return false, permanent(boom)
		})
		if !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("poll = %v after %d calls, want boom after 1", err, calls)
		}
	})
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("FreePort() = %d, %v", p, err)
	}
}
