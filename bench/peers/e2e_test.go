package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestE2ESinkCheck(t *testing.T) {
	msg := func(instance, status string, extra string) string {
		return `{"alerts":[{"status":"` + status + `","labels":{"alertname":"E2EValueHigh","instance":"` + instance +
			`","job":"e2e","severity":"page"` + extra + `}}]}`
	}
	for _, tc := range []struct {
		name    string
		bodies  []string
		wantErr string
	}{
		{"one each", []string{msg("e2e-0", "firing", ""), msg("e2e-1", "firing", "")}, ""},
		{"missing", []string{msg("e2e-0", "firing", "")}, "0 notifications for e2e-1"},
		{"twice", []string{msg("e2e-0", "firing", ""), msg("e2e-1", "firing", ""), msg("e2e-0", "firing", "")}, "2 notifications for e2e-0"},
		{"extra label", []string{msg("e2e-0", "firing", `,"region":"x"`), msg("e2e-1", "firing", "")}, "has labels"},
		{"resolved", []string{msg("e2e-0", "resolved", ""), msg("e2e-1", "firing", "")}, `status "resolved"`},
		{"stray instance", []string{msg("e2e-7", "firing", "")}, "unexpected notification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newE2ESink()
			srv := httptest.NewServer(s)
			defer srv.Close()
			for _, b := range tc.bodies {
				resp, err := srv.Client().Post(srv.URL+"/am", "application/json", strings.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST: %s", resp.Status)
				}
			}
			err := s.check("am", 2)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("check() = %v, want %q", err, tc.wantErr)
			}
			if err := s.check("alertd", 0); err != nil {
				t.Errorf("another system's notifications counted: %v", err)
			}
		})
	}
}

func TestE2ESinkWait(t *testing.T) {
	s := newE2ESink()
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func(path string) {
		resp, err := srv.Client().Post(srv.URL+path, "application/json",
			strings.NewReader(`{"alerts":[{"status":"firing","labels":{"instance":"e2e-0"}}]}`))
		if err != nil {
			t.Error(err)
			return
		}
		_ = resp.Body.Close()
	}
	post("/am")
	got, err := s.wait(t.Context(), "e2e-0", 10*time.Millisecond)
	if err == nil || len(got) != 1 {
		t.Errorf("wait with one system = %v, %v; want a timeout with its arrival", got, err)
	}
	done := make(chan struct{})
	go func() { defer close(done); post("/alertd") }()
	got, err = s.wait(t.Context(), "e2e-0", 10*time.Second)
	<-done
	if err != nil || len(got) != 2 {
		t.Errorf("wait = %v, %v; want both arrivals", got, err)
	}
}
