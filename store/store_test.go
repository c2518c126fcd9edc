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
