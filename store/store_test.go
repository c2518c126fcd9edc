package store

import (
	"errors"
	"strings"
	"testing"
)

func TestStoreRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update("silences", map[string][]byte{"a": []byte("1"), "b": []byte("2")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("silences", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var got []string
	if err := s.ForEach("silences", func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "b=2" {
		t.Errorf("after reopen: %v", got)
	}
	if v, err := s.Get("silences", "b"); err != nil || string(v) != "2" {
		t.Errorf("Get: %q %v", v, err)
	}
	if v, err := s.Get("nflog", "x"); err != nil || v != nil {
		t.Errorf("Get from a missing bucket: %q %v", v, err)
	}
	stop := errors.New("stop")
	if err := s.ForEach("silences", func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ForEach error: %v", err)
	}
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Errorf("second open: %v", err)
	}
}

// TestAppendAndDrop: Append stores values under increasing 8-byte keys that
// ForEach reads in the order appended, across transactions and a reopen;
// UpdateAndDrop updates one bucket and removes another in one transaction,
// and a later Append starts a new journal; the meta bucket is refused.
func TestAppendAndDrop(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	values := func() []string {
		t.Helper()
		var got []string
		if err := s.ForEach("j", func(k string, v []byte) error {
			if len(k) != 8 {
				t.Errorf("key %x is not 8 bytes", k)
			}
			got = append(got, string(v))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.Join(got, ","), ",")
	}
	// More than fit in one page, so that order across pages counts.
	var want []string
	for i := range 3 {
		var batch [][]byte
		for j := range 300 {
			v := strings.Repeat("x", 20) + "-" + string(rune('a'+i)) + "-" + strings.Repeat("y", j%7)
			batch = append(batch, []byte(v))
			want = append(want, v)
		}
		if err := s.Append("j", batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if got := values(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("journal read back in another order or incomplete: %d values", len(got))
	}

	if err := s.Update("log", map[string][]byte{"old": []byte("1")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAndDrop("log", map[string][]byte{"k": []byte("v")}, []string{"old"}, "j"); err != nil {
		t.Fatal(err)
	}
	if got := values(); strings.Join(got, ",") != "" {
		t.Errorf("journal after the drop: %d values", len(got))
	}
	if v, _ := s.Get("log", "k"); string(v) != "v" {
		t.Errorf("log k: %q", v)
	}
	if v, _ := s.Get("log", "old"); v != nil {
		t.Errorf("log old not deleted: %q", v)
	}
	// Dropping a bucket that is not there is not an error.
	if err := s.UpdateAndDrop("log", nil, nil, "j"); err != nil {
		t.Errorf("drop of a missing bucket: %v", err)
	}
	if err := s.Append("j", [][]byte{[]byte("again")}); err != nil {
		t.Fatal(err)
	}
	if got := values(); strings.Join(got, ",") != "again" {
		t.Errorf("new journal: %q", got)
	}
	if err := s.Append(metaBucket, [][]byte{[]byte("x")}); err == nil {
		t.Error("Append to the meta bucket succeeded")
	}
	if err := s.UpdateAndDrop("log", nil, nil, metaBucket); err == nil {
		t.Error("UpdateAndDrop dropped the meta bucket")
	}
}
