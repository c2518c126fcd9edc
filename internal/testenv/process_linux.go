package testenv

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr makes the kernel kill a component when the process that
// started it dies, so a test binary that panics or times out leaves no
// component behind. (Strictly, when the OS thread that started it exits;
// Go keeps its threads unless a goroutine exits while locked to one.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ownsListener reports whether process pid holds the TCP socket listening
// on 127.0.0.1:port. It tells a component that answers on its port from
// another process that took the same free port first.
func ownsListener(pid, port int) (bool, error) {
	inodes, err := listeningInodes("/proc/net/tcp", port)
	if err != nil {
		return false, err
	}
	if len(inodes) == 0 {
		return false, nil
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", fdDir, err)
	}
	for _, e := range entries {
		target, err := os.Readlink(fdDir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			return true, nil
		}
	}
	return false, nil
}

// listeningInodes returns the socket inodes of the listening sockets on
// 127.0.0.1:port or 0.0.0.0:port in a /proc/net/tcp table.
func listeningInodes(table string, port int) (map[string]bool, error) {
	f, err := os.Open(table)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", table, err)
	}
	defer func() { _ = f.Close() }()
	const listen = "0A"
	want := fmt.Sprintf(":%04X", port)
	inodes := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != listen || !strings.HasSuffix(fields[1], want) {
			continue
		}
		ip := strings.TrimSuffix(fields[1], want)
		if ip != "0100007F" && ip != "00000000" && ip != "7F000001" {
			continue
		}
		if _, err := strconv.ParseUint(fields[9], 10, 64); err == nil {
			inodes[fields[9]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return inodes, nil
}
