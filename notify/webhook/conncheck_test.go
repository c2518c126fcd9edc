//go:build unix

package webhook

import (
	"net"
	"testing"
	"time"
)

// TestConnAlive: an idle connection is alive until the receiver closes it
// or sends something nobody asked for.
func TestConnAlive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	dial := func() (client, server net.Conn) {
		t.Helper()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
		return c, s
	}
	// eventually waits, boundedly, for the server's action to arrive.
	eventually := func(c net.Conn, want bool) {
		t.Helper()
		for range 100 {
			if connAlive(c) == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("connAlive stays %v", !want)
	}

	c, _ := dial()
	if !connAlive(c) {
		t.Error("an open idle connection is not alive")
	}
	if !connAlive(c) {
		t.Error("checking twice changed it")
	}

	c, s := dial()
	_ = s.Close()
	eventually(c, false)

	c, s = dial()
	if _, err := s.Write([]byte("HTTP/1.1 408 Request Timeout\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	eventually(c, false)
}
