package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// readyTimeout bounds the wait for a started component's /-/ready.
	readyTimeout = 30 * time.Second
	// stopTimeout is how long a component gets to exit after SIGTERM
	// before it is killed; it is also exec.Cmd.WaitDelay.
	stopTimeout = 10 * time.Second
	// defaultWaitTimeout bounds a poll whose context has no deadline.
	defaultWaitTimeout = 30 * time.Second
	// pollInterval is the pause between two attempts of a poll loop.
	pollInterval = 100 * time.Millisecond
	// requestTimeout bounds one HTTP request to a component.
	requestTimeout = 5 * time.Second
	// logTailBytes is how much of a component's output is kept.
	logTailBytes = 64 << 10
	// errorLogLines is how many lines of output go into an error.
	errorLogLines = 40
	// startAttempts is how often a start is retried when the free port
	// was taken before the component could bind it.
	startAttempts = 3
)

// FreePort returns a TCP port on 127.0.0.1 that was free when it was asked
// for. Another process may take it before the caller binds it; the Run
// functions retry in that case.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on 127.0.0.1:0: %w", err)
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		_ = ln.Close()
		return 0, fmt.Errorf("listener address %v is not TCP", ln.Addr())
	}
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("close listener on %v: %w", addr, err)
	}
	return addr.Port, nil
}

// newHTTPClient returns the client used to talk to a component.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: requestTimeout}
}

// permanentError ends a poll at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent wraps err so that poll returns it without trying again.
func permanent(err error) error { return &permanentError{err: err} }

// poll calls fn every pollInterval until it reports done, returns a
// permanent error, or ctx ends. A ctx without a deadline gets
// defaultWaitTimeout. A non-permanent error describes the last attempt and
// goes into the timeout message.
func poll(ctx context.Context, fn func(ctx context.Context) (done bool, lastErr error)) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultWaitTimeout)
		defer cancel()
	}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	start := time.Now()
	for {
		done, last := fn(ctx)
		if done {
			return nil
		}
		if perm, ok := errors.AsType[*permanentError](last); ok {
			return perm.err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("gave up after %v: %w (last attempt: %w)", time.Since(start).Round(time.Millisecond), ctx.Err(), last)
			}
			return fmt.Errorf("gave up after %v: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-ticker.C:
		}
	}
}

// tailBuffer keeps the last max bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(maxBytes int) *tailBuffer {
	return &tailBuffer{max: maxBytes}
}

// Write appends p, dropping the oldest bytes beyond the limit.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

// String returns the kept output, at most max bytes.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > b.max {
		return string(b.buf[len(b.buf)-b.max:])
	}
	return string(b.buf)
}

// lastLines returns at most n trailing lines of the kept output.
func (b *tailBuffer) lastLines(n int) string {
	s := strings.TrimRight(b.String(), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// teeWriter writes to the tail buffer and to an optional sink whose errors
// are ignored, so a failing sink never blocks the component on a full pipe.
type teeWriter struct {
	tail *tailBuffer
	sink io.Writer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.sink != nil {
		_, _ = w.sink.Write(p)
	}
	return w.tail.Write(p)
}

// process is one running component.
type process struct {
	name string // for messages, e.g. "prometheus"
	cmd  *exec.Cmd
	log  *tailBuffer
	done chan struct{} // closed when Wait has returned

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts bin with args in dir. The process receives SIGTERM
// when ctx ends and is killed stopTimeout later if it has not exited.
func startProcess(ctx context.Context, name, bin string, args []string, dir string, sink io.Writer) (*process, error) {
	tail := newTailBuffer(logTailBytes)
	out := &teeWriter{tail: tail, sink: sink}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: tail, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then kills. It returns nil
// if the process exited cleanly or on SIGTERM; it is safe to call twice.
func (p *process) stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.terminate() })
	return p.stopErr
}

func (p *process) terminate() error {
	if !p.exited() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("signal %s: %w", p.name, err)
		}
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		select {
		case <-p.done:
		case <-timer.C:
			_ = p.cmd.Process.Kill()
			<-p.done // bounded: Wait gives up on the output pipes after WaitDelay
			return fmt.Errorf("%s did not exit within %v of SIGTERM and was killed; output:\n%s",
				p.name, stopTimeout, p.log.lastLines(errorLogLines))
		}
	}
	return p.exitError()
}

// exitError describes how the exited process ended, or nil if it ended
// cleanly (exit status 0, or SIGTERM).
func (p *process) exitError() error {
	ps := p.cmd.ProcessState
	if ps == nil {
		return fmt.Errorf("%s: no exit status", p.name)
	}
	if ps.Success() {
		return nil
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil
	}
	return fmt.Errorf("%s %s; output:\n%s", p.name, ps, p.log.lastLines(errorLogLines))
}

// waitReady polls url until it answers 200 from this process, the process
// exits, or readyTimeout passes. port is the port in url.
func (p *process) waitReady(ctx context.Context, client *http.Client, url string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := poll(ctx, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, permanent(errExited)
		}
		if ok, err := get(ctx, client, url); !ok {
			return false, err
		}
		owned, err := ownsListener(p.cmd.Process.Pid, port)
		if err == nil && !owned {
			return false, permanent(errPortTaken)
		}
		return true, nil // if /proc cannot tell, trust the answer
	})
	switch {
	case errors.Is(err, errPortTaken):
		return fmt.Errorf("%s: port %d: %w", p.name, port, err)
	case p.exited():
		return fmt.Errorf("%s exited before it was ready (%s); output:\n%s",
			p.name, p.cmd.ProcessState, p.log.lastLines(errorLogLines))
	case err != nil:
		return fmt.Errorf("%s not ready at %s: %w; output:\n%s", p.name, url, err, p.log.lastLines(errorLogLines))
	}
	return nil
}

var (
	errExited    = errors.New("process exited")
	errPortTaken = errors.New("another process answers on the port")
)

// get reports whether GET url answered 200.
func get(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return true, nil
}

// launchSpec describes one component start.
type launchSpec struct {
	name string // for messages
	bin  string
	dir  string
	sink io.Writer
	// args returns the command line for a listen address host:port.
	args func(listen string) []string
}

// launch starts a component on a free port and waits until /-/ready
// answers. It retries with another port if the chosen one was taken.
func launch(ctx context.Context, s launchSpec) (*process, string, error) {
	client := newHTTPClient()
	var lastErr error
	for range startAttempts {
		port, err := FreePort()
		if err != nil {
			return nil, "", err
		}
		listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		url := "http://" + listen
		p, err := startProcess(ctx, s.name, s.bin, s.args(listen), s.dir, s.sink)
		if err != nil {
			return nil, "", err
		}
		err = p.waitReady(ctx, client, url+"/-/ready", port)
		if err == nil {
			return p, url, nil
		}
		_ = p.stop() // err already carries the output
		lastErr = err
		if !errors.Is(err, errPortTaken) && !strings.Contains(p.log.String(), "address already in use") {
			break
		}
	}
	return nil, "", lastErr
}

// workDir returns dir, or a new temporary directory that the caller owns.
func workDir(dir, pattern string) (string, bool, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", false, fmt.Errorf("create %s: %w", dir, err)
		}
		return dir, false, nil
	}
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", false, fmt.Errorf("create temporary directory: %w", err)
	}
	return d, true, nil
}
