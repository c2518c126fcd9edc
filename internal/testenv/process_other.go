//go:build !linux

package testenv

import "syscall"

// sysProcAttr returns nil: only Linux can kill a child when its parent dies.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// ownsListener cannot tell outside Linux, and reports true.
func ownsListener(_, _ int) (bool, error) { return true, nil }
