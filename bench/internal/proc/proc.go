package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clkTck is USER_HZ, the unit of the times in /proc/PID/stat on Linux.
const clkTck = 100

// stat returns the fields of /proc/PID/stat after the command name: state
// is field 0, ppid 1, utime 11, stime 12.
func stat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil, fmt.Errorf("unexpected /proc/%d/stat format", pid)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat format: %d fields", pid, len(f))
	}
	return f, nil
}

// CPUSeconds returns the CPU time (user plus system) process pid has used.
func CPUSeconds(pid int) (float64, error) {
	f, err := stat(pid)
	if err != nil {
		return 0, err
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clkTck, nil
}

// Memory returns the resident set size (VmRSS) of process pid and its peak
// (VmHWM), in MiB.
func Memory(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}

// Running reports whether process pid exists and is not a zombie.
func Running(pid int) bool {
	f, err := stat(pid)
	return err == nil && f[0] != "Z"
}

// Child returns the pid of a running child of this process whose
// executable is bin, for a process a library started without telling its
// pid. It is an error if there is none or more than one.
func Child(bin string) (int, error) {
	return child(bin, "", func(int) bool { return true })
}

// ChildWithArg is Child for when several children run bin: it returns the
// one whose command line has arg as one of its arguments, e.g.
// "--config.file=/tmp/x/prometheus.yml".
func ChildWithArg(bin, arg string) (int, error) {
	return child(bin, fmt.Sprintf(" with argument %q", arg), func(pid int) bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return false
		}
		for a := range strings.SplitSeq(string(b), "\x00") {
			if a == arg {
				return true
			}
		}
		return false
	})
}

// child returns the one running child of this process that runs bin and
// that keep accepts; what names keep in errors.
func child(bin, what string, keep func(pid int) bool) (int, error) {
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	self := strconv.Itoa(os.Getpid())
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := stat(pid)
		if err != nil || f[1] != self || f[0] == "Z" {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == want && keep(pid) {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("no child process runs %s%s", bin, what)
	case 1:
		return found[0], nil
	}
	return 0, fmt.Errorf("%d child processes run %s%s: %v", len(found), bin, what, found)
}

// WaitIdle waits until process pid has used no more than one clock tick of
// CPU time over window, and returns when it last used CPU before that: the
// end of the work it was doing. It gives up, with an error, when ctx ends
// or the process is gone.
func WaitIdle(ctx context.Context, pid int, window time.Duration) (time.Time, error) {
	const every = 50 * time.Millisecond
	tick := time.NewTicker(every)
	defer tick.Stop()
	cpu, err := CPUSeconds(pid)
	if err != nil {
		return time.Time{}, err
	}
	busy := time.Now() // the last sample at which CPU time had grown
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("process %d still busy after %s: %w", pid, time.Since(busy).Round(time.Millisecond), ctx.Err())
		case now := <-tick.C:
			c, err := CPUSeconds(pid)
			if err != nil {
				return time.Time{}, err
			}
			if c-cpu > 1.5/clkTck {
				cpu, busy = c, now
			} else if now.Sub(busy) >= window {
				return busy, nil
			}
		}
	}
}

// Usage is what a process used over a window of time.
type Usage struct {
	// CPU is the CPU time (user plus system) used in the window, seconds.
	CPU float64
	// Elapsed is the length of the window.
	Elapsed time.Duration
	// RSS and PeakRSS are VmRSS and VmHWM at the end of the window, MiB;
	// the peak covers the process's whole life.
	RSS, PeakRSS float64
}

// Cores is the CPU used per second of the window.
func (u Usage) Cores() float64 {
	if u.Elapsed <= 0 {
		return 0
	}
	return u.CPU / u.Elapsed.Seconds()
}

// PerMinute is the CPU-seconds used per minute of the window.
func (u Usage) PerMinute() float64 { return u.Cores() * 60 }

// Measure waits d and returns what each of pids used over that time, in
// the order given. It is an error if ctx ends or a process is gone by the
// end.
func Measure(ctx context.Context, d time.Duration, pids ...int) ([]Usage, error) {
	cpu0 := make([]float64, len(pids))
	for i, pid := range pids {
		c, err := CPUSeconds(pid)
		if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		cpu0[i] = c
	}
	start := time.Now()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
	}
	elapsed := time.Since(start)
	out := make([]Usage, len(pids))
	for i, pid := range pids {
		if !Running(pid) {
			return nil, fmt.Errorf("process %d exited while measured", pid)
		}
		c, err := CPUSeconds(pid)
		if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		rss, hwm, err := Memory(pid)
		if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		out[i] = Usage{CPU: c - cpu0[i], Elapsed: elapsed, RSS: rss, PeakRSS: hwm}
	}
	return out, nil
}
