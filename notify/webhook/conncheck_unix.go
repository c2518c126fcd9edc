//go:build unix

package webhook

import (
	"net"
	"syscall"
)

// connAlive reports whether c, idle, is still open: nothing to read, not
// even the end of the stream. A receiver closes idle connections at its
// own time; finding that out before writing the request spares the
// request a failed attempt.
func connAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, err := syscall.Read(int(fd), buf[:])
		// EAGAIN: open and nothing sent; 0: closed; data: a reply to
		// nothing, the connection is out of step.
		alive = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && alive
}
