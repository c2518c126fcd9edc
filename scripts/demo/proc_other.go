//go:build !linux

package main

import (
	"os"
	"syscall"
)

// sysProcAttr keeps the defaults: the demo runs on Linux, where make deps
// installs Prometheus; elsewhere it stops alertd by its process id only.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup sends sig to the process pid.
func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sig)
}
