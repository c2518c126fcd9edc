package testenv

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	port := ln.Addr().(*net.TCPAddr).Port

	if owned, err := ownsListener(os.Getpid(), port); err != nil || !owned {
		t.Errorf("ownsListener(self, %d) = %v, %v; want true", port, owned, err)
	}
	if owned, err := ownsListener(os.Getppid(), port); err != nil || owned {
		t.Errorf("ownsListener(parent, %d) = %v, %v; want false", port, owned, err)
	}
}

func TestListeningInodes(t *testing.T) {
	table := filepath.Join(t.TempDir(), "tcp")
	content := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0
   3: 0A000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0 100 0 0 10 0
   4: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0 100 0 0 10 0
`
	if err := os.WriteFile(table, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := listeningInodes(table, 8080)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"111": true, "222": true}, got); diff != "" {
		t.Errorf("listeningInodes mismatch (-want +got):\n%s", diff)
	}
}
