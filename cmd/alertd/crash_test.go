package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// crashSink is the webhook receiver of the crash test: it records every
// notification with the time it arrived.
type crashSink struct {
	mu  sync.Mutex
	got []crashNote
}

type crashNote struct {
	at       time.Time
	status   string // of the alert: firing or resolved
	instance string
	startsAt time.Time
}

func (s *crashSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var m struct {
		Alerts []struct {
			Status   string            `json:"status"`
			Labels   map[string]string `json:"labels"`
			StartsAt time.Time         `json:"startsAt"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range m.Alerts {
		s.got = append(s.got, crashNote{at: at, status: a.Status, instance: a.Labels["instance"], startsAt: a.StartsAt})
	}
}

func (s *crashSink) notes() []crashNote {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// episode is a time the series of an instance is 0 (the alert's condition
// holds), relative to the start of the schedule.
type episode struct {
	instance   string
	start, end time.Duration
}

// TestCrashLosesAndDoublesNothing runs the real binary against a real
// Prometheus and a webhook sink, and SIGKILLs it at 20 random moments
// across fire and resolve cycles, restarting it each time. From the sink's
// log: every firing episode is notified once and its resolution once; a
// notification may come twice only if a kill fell within 50ms of its
// first delivery (between the receiver's answer and the notification log's
// write, alertd's one window of at-least-once); for progress is kept
// across restarts; the silence created at the start holds throughout.
func TestCrashLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test runs for about a minute")
	}
	const (
		holdFor   = 5 * time.Second
		kills     = 20
		killFirst = 1 * time.Second
		killLast  = 90 * time.Second
		killGap   = 2 * time.Second // at least, between two kills
	)
	schedule := []episode{
		{"i1", 2 * time.Second, 20 * time.Second},
		{"i1", 30 * time.Second, 48 * time.Second},
		{"i1", 58 * time.Second, 76 * time.Second},
		{"i2", 10 * time.Second, 28 * time.Second},
		{"i2", 38 * time.Second, 56 * time.Second},
		{"i2", 66 * time.Second, 84 * time.Second},
		{"i3", 5 * time.Second, 60 * time.Second}, // silenced
	}
	lastEnd := 84 * time.Second

	dir := t.TempDir()
	bin := filepath.Join(dir, "alertd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	target := testenv.NewTarget(t)
	for _, i := range []string{"i1", "i2", "i3"} {
		target.Set(`crash_up{job="crash",instance="`+i+`"}`, 1)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}})
	if err := prom.WaitForScrape(t.Context(), "crash_up"); err != nil {
		t.Fatal(err)
	}
	sink := &crashSink{}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)

	writeFile(t, filepath.Join(dir, "rules.yml"), fmt.Sprintf(`groups:
- name: crash
  rules:
  - alert: CrashDown
    expr: crash_up == 0
    for: %s
`, holdFor))
	cfg := filepath.Join(dir, "alertd.yml")
	writeFile(t, cfg, fmt.Sprintf(`global:
  evaluation_interval: 1s
datasource: {url: %s}
rule_files: [rules.yml]
route:
  receiver: sink
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: sink
  webhook_configs: [{url: %q, send_resolved: true}]
`, prom.URL, sinkSrv.URL+"/hook"))
	addr := freeAddr(t)
	var logs bytes.Buffer
	var logsMu sync.Mutex
	logWriter := writerFunc(func(b []byte) (int, error) {
		logsMu.Lock()
		defer logsMu.Unlock()
		return logs.Write(b)
	})

	client := &http.Client{Timeout: 5 * time.Second}
	var cmd *exec.Cmd
	start := func() {
		t.Helper()
		cmd = exec.CommandContext(t.Context(), bin, "run", "--config.file", cfg, "--storage.path", filepath.Join(dir, "data"),
			"--web.listen-address", addr, "--rules.alert.for-grace-period", "1s", "--config.auto-reload-interval", "0s")
		cmd.Stdout, cmd.Stderr = logWriter, logWriter
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, err := client.Get("http://" + addr + "/-/ready")
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			if time.Now().After(deadline) {
				logsMu.Lock()
				defer logsMu.Unlock()
				t.Fatalf("alertd not ready within 15s: %v\n%s", err, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start()

	// The silence, created once, must hold through every crash.
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"matchers":[{"name":"instance","value":"i3","isRegex":false,"isEqual":true}],"startsAt":%q,"endsAt":%q,"createdBy":"crash test","comment":"silenced instance"}`,
		now.Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339Nano))
	resp, err := client.Post("http://"+addr+"/api/v2/silences", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create silence: %v %v", err, resp)
	}
	_ = resp.Body.Close()

	// The kills: 20 random moments at least 2s apart, fixed seed.
	rng := rand.New(rand.NewPCG(23, 11))
	var killAt []time.Duration
	for len(killAt) < kills {
		k := killFirst + time.Duration(rng.Int64N(int64(killLast-killFirst)))
		if !slices.ContainsFunc(killAt, func(o time.Duration) bool { return (k - o).Abs() < killGap }) {
			killAt = append(killAt, k)
		}
	}
	slices.Sort(killAt)

	// Run the schedule: series changes and kills, in time order.
	type event struct {
		at   time.Duration
		do   func()
		kill bool
	}
	var events []event
	for _, e := range schedule {
		series := `crash_up{job="crash",instance="` + e.instance + `"}`
		events = append(events, event{at: e.start, do: func() { target.Set(series, 0) }}, event{at: e.end, do: func() { target.Set(series, 1) }})
	}
	var killed, restarted []time.Time // wall times of each kill and of alertd being ready again
	for _, k := range killAt {
		events = append(events, event{at: k, kill: true, do: func() {
			killed = append(killed, time.Now())
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			start()
			restarted = append(restarted, time.Now())
		}})
	}
	slices.SortStableFunc(events, func(a, b event) int { return int(a.at - b.at) })
	t0 := time.Now()
	for _, e := range events {
		if d := time.Until(t0.Add(e.at)); d > 0 {
			time.Sleep(d)
		}
		e.do()
	}

	// Wait for the last resolution, then stop alertd with SIGTERM.
	deadline := time.Now().Add(30 * time.Second)
	for !slices.ContainsFunc(sink.notes(), func(n crashNote) bool {
		return n.instance == "i2" && n.status == "resolved" && n.at.After(t0.Add(lastEnd))
	}) {
		if time.Now().After(deadline) {
			logsMu.Lock()
			l := logs.String()
			logsMu.Unlock()
			if len(l) > 6000 {
				l = l[len(l)-6000:]
			}
			t.Fatalf("no resolution of i2's last episode within 30s; notifications (relative to the schedule):\n%s\nalertd's log (end):\n%s", describe(sink.notes(), t0), l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // anything late or doubled shows up by now
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("alertd after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("alertd did not exit within 20s of SIGTERM")
	}

	notes := sink.notes()
	// excused says whether a repeat of a notification first delivered at
	// first is explained by a kill within 50ms after it.
	excused := func(first time.Time) bool {
		return slices.ContainsFunc(killed, func(k time.Time) bool { d := k.Sub(first); return d >= 0 && d <= 50*time.Millisecond })
	}
	// excluded returns how much of from–to does not count towards for:
	// for every kill in it, from the evaluation before the kill to the
	// first after the restart (Prometheus's outage accounting), at most
	// the time down plus two evaluation intervals.
	excluded := func(from, to time.Time) time.Duration {
		var d time.Duration
		for i, k := range killed {
			if k.After(from.Add(-time.Second)) && k.Before(to) {
				d += restarted[i].Sub(k) + 2*time.Second
			}
		}
		return d
	}
	for i, e := range schedule {
		next := lastEnd + 30*time.Second
		for _, o := range schedule[i+1:] {
			if o.instance == e.instance {
				next = o.start
				break
			}
		}
		var firing, resolved []crashNote
		for _, n := range notes {
			if n.instance != e.instance {
				continue
			}
			switch {
			case n.status == "firing" && n.at.After(t0.Add(e.start)) && n.at.Before(t0.Add(e.end+2*time.Second)):
				firing = append(firing, n)
			case n.status == "resolved" && n.at.After(t0.Add(e.end)) && n.at.Before(t0.Add(next)):
				resolved = append(resolved, n)
			}
		}
		if e.instance == "i3" {
			if len(firing)+len(resolved) > 0 {
				t.Errorf("the silenced instance was notified: %+v %+v", firing, resolved)
			}
			continue
		}
		for _, kind := range []struct {
			what  string
			notes []crashNote
		}{{"firing", firing}, {"resolved", resolved}} {
			if len(kind.notes) == 0 {
				t.Errorf("%s episode %s–%s: no %s notification (lost)", e.instance, e.start, e.end, kind.what)
				continue
			}
			for j := 1; j < len(kind.notes); j++ {
				if !excused(kind.notes[j-1].at) {
					t.Errorf("%s episode %s–%s: %s notified %d times (%v), and no kill within 50ms of the first",
						e.instance, e.start, e.end, kind.what, len(kind.notes), kind.notes)
					break
				}
				t.Logf("%s episode %s: %s repeated after a kill within 50ms of its delivery", e.instance, e.start, kind.what)
			}
		}
		if len(firing) > 0 {
			// Prometheus sees the change within a scrape (1s), alertd
			// within an evaluation (1s); the time alertd was down does
			// not count. Restarting for from zero after a kill would
			// add the time already pending.
			began := t0.Add(e.start)
			took := firing[0].startsAt.Sub(began) - excluded(began, firing[0].startsAt)
			if took > holdFor+2500*time.Millisecond {
				t.Errorf("%s episode %s: fired %s after the series changed (less downtime), want at most for (%s) + 2.5s: for progress lost",
					e.instance, e.start, took.Round(time.Millisecond), holdFor)
			}
		}
	}

	// The silence survived every crash.
	start()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	resp, err = client.Get("http://" + addr + "/api/v2/silences")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var sils []struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		Comment string `json:"comment"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].Status.State != "active" || sils[0].Comment != "silenced instance" {
		t.Errorf("silences after %d crashes: %+v", kills, sils)
	}
	t.Logf("%d kills; %d notifications", len(killed), len(notes))
	if t.Failed() {
		var ks strings.Builder
		for i, k := range killed {
			fmt.Fprintf(&ks, " %.2f–%.2f", k.Sub(t0).Seconds(), restarted[i].Sub(t0).Seconds())
		}
		logsMu.Lock()
		var restores []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "restored") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
				restores = append(restores, l)
			}
		}
		logsMu.Unlock()
		t.Logf("kills (down–ready, s):%s\nnotifications:\n%s\nrestores, warnings, errors:\n%s", ks.String(), describe(notes, t0), strings.Join(restores, "\n"))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// describe lists notifications relative to t0, for failure messages.
func describe(notes []crashNote, t0 time.Time) string {
	var b strings.Builder
	for _, n := range notes {
		fmt.Fprintf(&b, "  %6.2fs %s %s (startsAt %+.2fs)\n", n.at.Sub(t0).Seconds(), n.instance, n.status, n.startsAt.Sub(t0).Seconds())
	}
	return b.String()
}
