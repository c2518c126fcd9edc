package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

const (
	// ReadyTimeout bounds WaitReady.
	ReadyTimeout = 30 * time.Second
	// StopTimeout is how long a process gets to exit after SIGTERM.
	StopTimeout = 10 * time.Second
	// LogLines is how much of a process's output an error shows.
	LogLines = 30
)

// Daemon is a started program.
type Daemon struct {
	name     string
	cmd      *exec.Cmd
	out      *testenv.SyncBuffer
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Start starts bin with args; name is used in messages. Its output is
// kept, and also written to logFile if that is not nil. The process gets
// SIGTERM when ctx ends.
func Start(ctx context.Context, name string, logFile io.Writer, bin string, args ...string) (*Daemon, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &testenv.SyncBuffer{}
	var w io.Writer = out
	if logFile != nil {
		w = io.MultiWriter(out, logFile)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = StopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &Daemon{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		close(d.exited)
	}()
	return d, nil
}

// Pid is the process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.exited }

// Output returns everything the process has written so far.
func (d *Daemon) Output() string { return d.out.String() }

// WithOutput returns err followed by the last LogLines lines of the
// process's output.
func (d *Daemon) WithOutput(err error) error {
	return fmt.Errorf("%w; output:\n%s", err, Tail(d.Output(), LogLines))
}

// WaitReady polls url until it answers 200, the process exits, or
// ReadyTimeout passes.
func (d *Daemon) WaitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
			return fmt.Errorf("%s exited before it was ready (%s); output:\n%s", d.name, d.cmd.ProcessState, Tail(d.out.String(), LogLines))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w; output:\n%s", d.name, url, ctx.Err(), Tail(d.out.String(), LogLines))
		case <-tick.C:
		}
	}
}

// Stop sends SIGTERM and waits up to StopTimeout before killing. It
// returns an error if the process did not exit cleanly; it is safe to call
// twice.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(StopTimeout):
				_ = d.cmd.Process.Kill()
				<-d.exited
				d.stopErr = fmt.Errorf("%s did not exit within %s of SIGTERM and was killed; output:\n%s", d.name, StopTimeout, Tail(d.out.String(), LogLines))
				return
			}
		}
		ps := d.cmd.ProcessState
		if ws, ok := ps.Sys().(syscall.WaitStatus); ps.Success() || ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return
		}
		d.stopErr = fmt.Errorf("%s %s; output:\n%s", d.name, ps, Tail(d.out.String(), LogLines))
	})
	return d.stopErr
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
