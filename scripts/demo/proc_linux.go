package main

import "syscall"

// sysProcAttr puts alertd in a process group of its own (so that Ctrl-C in
// the terminal reaches the demo, which stops alertd in order) and has the
// kernel kill it if the demo itself dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }
