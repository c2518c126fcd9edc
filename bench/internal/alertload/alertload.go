package alertload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alertd/alertd/bench/internal/daemon"
	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/internal/testenv"
)

const (
	// postTimeout bounds one POST of a batch.
	postTimeout = 30 * time.Second
	// idleWindow is how long a process must use no CPU to count as idle.
	idleWindow = time.Second
	// profileSeconds is the length of the CPU profile of alertd's delivery.
	profileSeconds = 5
)

// Options is the load and how to run it.
type Options struct {
	// Alertd is the path of the alertd binary.
	Alertd string
	// Alerts are posted in POSTs of Batch alerts, alert i in group
	// g<i % Groups> (the route groups by the label group).
	Alerts, Batch, Groups int
	// GroupWait is the route's group_wait.
	GroupWait time.Duration
	// Timeout is how long after group_wait expiry to wait for every alert
	// to be delivered; Idle, how long after that for the process to go
	// idle before it is measured.
	Timeout, Idle time.Duration
	// AlertdLog, if set, is a file that receives alertd's whole output.
	AlertdLog string
	// Profile, if set, is a file that receives a CPU profile of alertd's
	// delivery; AllocProfile one of the memory it allocates meanwhile.
	Profile, AllocProfile string
	// Log receives progress and notes; nil discards them.
	Log io.Writer
}

// Validate says which option is out of range.
func (o Options) Validate() error {
	if o.Alerts <= 0 || o.Batch <= 0 || o.Groups <= 0 || o.GroupWait < 0 || o.Timeout <= 0 || o.Idle <= 0 {
		return errors.New("-alerts, -batch, -groups, -timeout and -idle-timeout must be positive, -group-wait not negative")
	}
	return nil
}

func (o Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// Result is what one system did with the stream. The end is when the
// process has gone idle after delivering every alert.
type Result struct {
	System    string
	Ingest    time.Duration
	Delivery  time.Duration // from group_wait expiry to the last alert received
	BusyAfter time.Duration // from the last alert received to the process going idle; -1: unknown
	Delivered int           // alerts the receiver counted (duplicates included)
	Distinct  int           // distinct alerts among them
	Requests  int           // webhook requests received
	PeakRSS   float64       // VmHWM at the end, MiB
	RSS       float64       // VmRSS at the end, MiB
	CPU       float64       // CPU seconds from the first POST to the end
	IngestCPU float64       // CPU seconds from the first POST to the last answer
	IngestRSS float64       // VmRSS after the last answer, MiB
	// CPU seconds from group_wait expiry to the last alert received, of
	// the system and of this process (the sink and the harness), which
	// share the machine's cores: the delivery is as fast as both allow.
	DeliveryCPU, SinkCPU float64
}

// RoutingConfig is the Alertmanager configuration both systems run; the
// receiver's path names the system.
func RoutingConfig(o Options, sinkURL, system string) string {
	return WebhookRoute("group", o.GroupWait, sinkURL+"/"+system)
}

// WebhookRoute is an Alertmanager configuration routing every alert,
// grouped by groupBy (label names, comma-separated), to one webhook at url
// without resolved notifications: group_wait groupWait, group_interval 5m,
// repeat_interval 4h.
func WebhookRoute(groupBy string, groupWait time.Duration, url string) string {
	return fmt.Sprintf(`route:
  receiver: sink
  group_by: [%s]
  group_wait: %s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: sink
    webhook_configs:
      - url: %q
        send_resolved: false
`, groupBy, PromDuration(groupWait), url)
}

// PromDuration formats d as a Prometheus duration (no fractional units).
func PromDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// RunAlertmanager runs the load through Alertmanager (bin) in dir; the
// receiver is sink, served at sinkURL. A missing Alertmanager is noted in
// o.Log and gives a nil Result.
func RunAlertmanager(ctx context.Context, o Options, dir string, sink *Sink, sinkURL string) (*Result, error) {
	bin, err := testenv.FindBinary("prometheus-alertmanager")
	if _, missing := errors.AsType[*testenv.MissingBinaryError](err); missing {
		_, _ = fmt.Fprintln(o.log(), "alertmanager not measured:", err)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := &testenv.SyncBuffer{}
	am, err := testenv.RunAlertmanager(ctx, bin, testenv.AlertmanagerOptions{
		ConfigYAML: RoutingConfig(o, sinkURL, "am"),
		Dir:        dir,
		Stdout:     out,
	})
	if err != nil {
		return nil, fmt.Errorf("start alertmanager: %w", err)
	}
	defer func() { _ = am.Stop() }()
	pid, err := proc.ChildWithArg(bin, "--config.file="+am.ConfigFile)
	if err != nil {
		return nil, err
	}
	_, _ = fmt.Fprintf(o.log(), "alertmanager: %s (%s), pid %d\n", bin, Version(ctx, bin), pid)
	r, err := load(ctx, o, "alertmanager", "am", am.URL, pid, sink)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w; output:\n%s", err, daemon.Tail(out.String(), daemon.LogLines))
	}
	if err := am.Stop(); err != nil {
		return nil, fmt.Errorf("stop alertmanager: %w", err)
	}
	return r, nil
}

// RunAlertd runs the load through alertd (o.Alertd) in dir; the receiver
// is sink, served at sinkURL.
func RunAlertd(ctx context.Context, o Options, dir string, sink *Sink, sinkURL string) (*Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, []byte(RoutingConfig(o, sinkURL, "alertd")), 0o600); err != nil {
		return nil, err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	// Warnings and errors only: at info level alertd logs every
	// notification, Alertmanager does so only at debug level.
	var logFile io.Writer
	if o.AlertdLog != "" {
		f, err := os.Create(o.AlertdLog)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		logFile = f
	}
	d, err := daemon.Start(ctx, "alertd", logFile, o.Alertd, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	if err != nil {
		return nil, err
	}
	defer func() { _ = d.Stop() }()
	if err := d.WaitReady(ctx, "http://"+listen+"/-/ready"); err != nil {
		return nil, err
	}
	_, _ = fmt.Fprintf(o.log(), "alertd: %s, pid %d\n", o.Alertd, d.Pid())
	r, err := load(ctx, o, "alertd", "alertd", "http://"+listen, d.Pid(), sink)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("alertd: %w", d.WithOutput(err))
	}
	if err := d.Stop(); err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(d.Output()); s != "" {
		_, _ = fmt.Fprintf(o.log(), "alertd output: %d lines, %d at level=ERROR; the last %d:\n%s\n",
			strings.Count(s, "\n")+1, strings.Count(s, "level=ERROR"), daemon.LogLines, daemon.Tail(s, daemon.LogLines))
	}
	return r, nil
}

// load posts the stream to the system at url, waits for the receiver to
// get every alert, and measures process pid.
func load(ctx context.Context, o Options, system, path, url string, pid int, sink *Sink) (*Result, error) {
	bodies := buildBodies(o, time.Now())
	client := &http.Client{
		Timeout:   postTimeout,
		Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute},
	}
	defer client.CloseIdleConnections()
	counter := sink.expect(path, o.Alerts)

	cpu0, err := proc.CPUSeconds(pid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for i, b := range bodies {
		if err := post(ctx, client, url+"/api/v2/alerts", b); err != nil {
			return nil, fmt.Errorf("POST batch %d of %d: %w", i+1, len(bodies), err)
		}
	}
	ingest := time.Since(start)
	ingestCPU, err := proc.CPUSeconds(pid)
	if err != nil {
		return nil, err
	}
	ingestRSS, _, err := proc.Memory(pid)
	if err != nil {
		return nil, err
	}
	flush := start.Add(o.GroupWait)
	if ingest > o.GroupWait {
		_, _ = fmt.Fprintf(o.log(), "%s: ingest (%s) outlasted group_wait: alerts that joined an already flushed group wait for group_interval\n",
			system, ingest.Round(time.Millisecond))
	}

	for _, p := range []struct{ file, kind string }{{o.Profile, "profile"}, {o.AllocProfile, "allocs"}} {
		if p.file == "" || system != "alertd" {
			continue
		}
		done := make(chan error, 1)
		go func() { done <- profile(ctx, url, p.kind, p.file, time.Until(flush)) }()
		defer func() {
			if err := <-done; err != nil {
				_, _ = fmt.Fprintf(o.log(), "alertd: %s profile: %v\n", p.kind, err)
			}
		}()
	}
	atFlush := make(chan [2]float64, 1)
	go func() {
		timer := time.NewTimer(time.Until(flush))
		defer timer.Stop()
		<-timer.C
		atFlush <- cpuNow(pid)
	}()
	deadline := flush.Add(o.Timeout)
	if err := counter.wait(ctx, deadline, pid); err != nil {
		return nil, err
	}
	atLast, at0 := cpuNow(pid), <-atFlush
	_, _, _, last := counter.state()
	// The work does not end with the last webhook (Alertmanager and
	// alertd write the notification log after sending): wait until the
	// process is idle, then measure it, and count the webhooks again to
	// see duplicates.
	busyAfter := time.Duration(-1)
	idleCtx, cancel := context.WithTimeout(ctx, o.Idle)
	busyUntil, err := proc.WaitIdle(idleCtx, pid, idleWindow)
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		_, _ = fmt.Fprintf(o.log(), "%s: %v; measured anyway\n", system, err)
	case !last.IsZero():
		busyAfter = max(0, busyUntil.Sub(last))
	}
	cpu1, err := proc.CPUSeconds(pid)
	if err != nil {
		return nil, err
	}
	rss, hwm, err := proc.Memory(pid)
	if err != nil {
		return nil, err
	}
	n, distinct, requests, _ := counter.state()
	r := &Result{
		System: system, Ingest: ingest, BusyAfter: busyAfter, Delivered: n, Distinct: distinct, Requests: requests,
		PeakRSS: hwm, RSS: rss, CPU: cpu1 - cpu0, IngestCPU: ingestCPU - cpu0, IngestRSS: ingestRSS,
		DeliveryCPU: atLast[0] - at0[0], SinkCPU: atLast[1] - at0[1],
	}
	if !last.IsZero() {
		r.Delivery = last.Sub(flush)
	}
	return r, nil
}

// cpuNow returns the CPU seconds used so far by process pid and by this
// process; NaN where it cannot be read.
func cpuNow(pid int) [2]float64 {
	var out [2]float64
	for i, p := range []int{pid, os.Getpid()} {
		c, err := proc.CPUSeconds(p)
		if err != nil {
			c = math.NaN()
		}
		out[i] = c
	}
	return out
}

// profile writes to file a profile of kind (/debug/pprof/<kind>: profile
// for CPU, allocs for the memory allocated) of the process serving url,
// over profileSeconds from wait on.
func profile(ctx context.Context, url, kind, file string, wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/debug/pprof/"+kind+"?seconds="+strconv.Itoa(profileSeconds), nil)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: (profileSeconds + 30) * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/%s: %s", kind, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// buildBodies returns the JSON bodies of the POSTs: alert i has the labels
// alertname="Load", group="g<i % groups>", instance="i<i>".
func buildBodies(o Options, now time.Time) [][]byte {
	startsAt := strconv.Quote(now.UTC().Format(time.RFC3339Nano))
	endsAt := strconv.Quote(now.Add(time.Hour).UTC().Format(time.RFC3339Nano))
	var bodies [][]byte
	for first := 0; first < o.Alerts; first += o.Batch {
		var b []byte
		b = append(b, '[')
		for i := first; i < min(first+o.Batch, o.Alerts); i++ {
			if i > first {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"labels":{"alertname":"Load","group":"g%d","instance":"i%d"},"startsAt":%s,"endsAt":%s}`,
				i%o.Groups, i, startsAt, endsAt)
		}
		bodies = append(bodies, append(b, ']'))
	}
	return bodies
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Version returns the first line of bin --version.
func Version(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "version unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
