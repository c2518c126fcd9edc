// Command amload measures alertd as an Alertmanager next to Alertmanager
// itself on one stream of alerts: N alerts (default 100,000) posted to
// /api/v2/alerts in batches (1,000) over G groups (10,000), routed to a
// webhook receiver that the harness serves. For each system it reports the
// ingest time (first POST sent to last POST answered), the delivery time
// (from the first group's group_wait expiry until the receiver has every
// alert), the process's peak and final resident memory, and the CPU time it
// used. Alertmanager (Debian's prometheus-alertmanager) runs first, then
// alertd, one after the other so that they do not compete for CPU.
//
//	make build && go run ./bench/amload -alertd bin/alertd
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/internal/testenv"
)

const (
	// startTimeout bounds the wait for a started system's /-/ready.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a system gets to exit after SIGTERM.
	stopTimeout = 10 * time.Second
	// postTimeout bounds one POST of a batch.
	postTimeout = 30 * time.Second
	// logLines is how much of a system's output an error or report shows.
	logLines = 30
	// idleWindow is how long a process must use no CPU to count as idle.
	idleWindow = time.Second
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "amload:", err)
		os.Exit(1)
	}
}

type options struct {
	alertd    string
	am        bool
	alerts    int
	batch     int
	groups    int
	groupWait time.Duration
	timeout   time.Duration
	idle      time.Duration
	alertdLog string
	profile   string
}

// result is what one system did with the stream. The end is when the
// process has gone idle after delivering every alert.
type result struct {
	system    string
	ingest    time.Duration
	delivery  time.Duration // from group_wait expiry to the last alert received
	busyAfter time.Duration // from the last alert received to the process going idle; -1: unknown
	delivered int           // alerts the receiver counted (duplicates included)
	distinct  int           // distinct alerts among them
	requests  int           // webhook requests received
	peakRSS   float64       // VmHWM at the end, MiB
	rss       float64       // VmRSS at the end, MiB
	cpu       float64       // CPU seconds from the first POST to the end
	ingestCPU float64       // CPU seconds from the first POST to the last answer
	ingestRSS float64       // VmRSS after the last answer, MiB
	// CPU seconds from group_wait expiry to the last alert received, of
	// the system and of this process (the sink and the harness), which
	// share the machine's cores: the delivery is as fast as both allow.
	deliveryCPU, sinkCPU float64
}

func run() error {
	var o options
	flag.StringVar(&o.alertd, "alertd", "bin/alertd", "path of the alertd binary")
	flag.BoolVar(&o.am, "alertmanager", true, "also measure Alertmanager (prometheus-alertmanager)")
	flag.IntVar(&o.alerts, "alerts", 100_000, "alerts posted")
	flag.IntVar(&o.batch, "batch", 1000, "alerts per POST")
	flag.IntVar(&o.groups, "groups", 10_000, "groups the alerts are spread over (group_by: [group])")
	flag.DurationVar(&o.groupWait, "group-wait", 10*time.Second, "group_wait of the route")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long after group_wait expiry to wait for every alert to be delivered")
	flag.DurationVar(&o.idle, "idle-timeout", 30*time.Second, "how long after the last delivery to wait for the process to go idle before measuring it")
	flag.StringVar(&o.alertdLog, "alertd-log", "", "file to write alertd's whole output to")
	flag.StringVar(&o.profile, "alertd-cpuprofile", "", "file to write a CPU profile of alertd's delivery to (from /debug/pprof, 5s from group_wait expiry)")
	flag.Parse()
	if o.alerts <= 0 || o.batch <= 0 || o.groups <= 0 || o.groupWait < 0 || o.timeout <= 0 || o.idle <= 0 {
		return errors.New("-alerts, -batch, -groups, -timeout and -idle-timeout must be positive, -group-wait not negative")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "amload")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	sink := newSink()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	sinkURL := "http://" + ln.Addr().String()

	fmt.Printf("load: %d alerts in POSTs of %d over %d groups; group_wait %s, webhook receiver; delivery waited for up to %s after group_wait\n",
		o.alerts, o.batch, o.groups, o.groupWait, o.timeout)
	var results []result
	if o.am {
		r, err := runAlertmanager(ctx, o, filepath.Join(dir, "alertmanager"), sink, sinkURL)
		if err != nil {
			return err
		}
		if r != nil {
			results = append(results, *r)
		}
	}
	r, err := runAlertd(ctx, o, filepath.Join(dir, "alertd"), sink, sinkURL)
	if err != nil {
		return err
	}
	results = append(results, *r)
	printTable(o, results)
	return nil
}

// routingConfig is the Alertmanager configuration both systems run; the
// receiver's path names the system.
func routingConfig(o options, sinkURL, system string) string {
	return fmt.Sprintf(`route:
  receiver: sink
  group_by: [group]
  group_wait: %s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: sink
    webhook_configs:
      - url: %q
        send_resolved: false
`, promDuration(o.groupWait), sinkURL+"/"+system)
}

// promDuration formats d as a Prometheus duration (no fractional units).
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

func runAlertmanager(ctx context.Context, o options, dir string, sink *sink, sinkURL string) (*result, error) {
	bin, err := testenv.FindBinary("prometheus-alertmanager")
	if _, missing := errors.AsType[*testenv.MissingBinaryError](err); missing {
		fmt.Println("alertmanager not measured:", err)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := &testenv.SyncBuffer{}
	am, err := testenv.RunAlertmanager(ctx, bin, testenv.AlertmanagerOptions{
		ConfigYAML: routingConfig(o, sinkURL, "am"),
		Dir:        dir,
		Stdout:     out,
	})
	if err != nil {
		return nil, fmt.Errorf("start alertmanager: %w", err)
	}
	defer func() { _ = am.Stop() }()
	pid, err := proc.Child(bin)
	if err != nil {
		return nil, err
	}
	fmt.Printf("alertmanager: %s (%s), pid %d\n", bin, version(ctx, bin), pid)
	r, err := load(ctx, o, "alertmanager", "am", am.URL, pid, sink)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w; output:\n%s", err, tail(out.String(), logLines))
	}
	if err := am.Stop(); err != nil {
		return nil, fmt.Errorf("stop alertmanager: %w", err)
	}
	return r, nil
}

func runAlertd(ctx context.Context, o options, dir string, sink *sink, sinkURL string) (*result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, []byte(routingConfig(o, sinkURL, "alertd")), 0o600); err != nil {
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
	if o.alertdLog != "" {
		f, err := os.Create(o.alertdLog)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		logFile = f
	}
	d, err := start(ctx, logFile, o.alertd, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	if err != nil {
		return nil, err
	}
	defer func() { _ = d.stop() }()
	if err := d.waitReady(ctx, "http://"+listen+"/-/ready"); err != nil {
		return nil, err
	}
	fmt.Printf("alertd: %s, pid %d\n", o.alertd, d.cmd.Process.Pid)
	r, err := load(ctx, o, "alertd", "alertd", "http://"+listen, d.cmd.Process.Pid, sink)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("alertd: %w; output:\n%s", err, tail(d.out.String(), logLines))
	}
	if err := d.stop(); err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(d.out.String()); s != "" {
		fmt.Printf("alertd output: %d lines, %d at level=ERROR; the last %d:\n%s\n",
			strings.Count(s, "\n")+1, strings.Count(s, "level=ERROR"), logLines, tail(s, logLines))
	}
	return r, nil
}

// load posts the stream to the system at url, waits for the receiver to
// get every alert, and measures process pid.
func load(ctx context.Context, o options, system, path, url string, pid int, sink *sink) (*result, error) {
	bodies := buildBodies(o, time.Now())
	client := &http.Client{
		Timeout:   postTimeout,
		Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute},
	}
	defer client.CloseIdleConnections()
	counter := sink.expect(path, o.alerts)

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
	flush := start.Add(o.groupWait)
	if ingest > o.groupWait {
		fmt.Printf("%s: ingest (%s) outlasted group_wait: alerts that joined an already flushed group wait for group_interval\n",
			system, ingest.Round(time.Millisecond))
	}

	if o.profile != "" && system == "alertd" {
		done := make(chan error, 1)
		go func() { done <- cpuProfile(ctx, url, o.profile, time.Until(flush)) }()
		defer func() {
			if err := <-done; err != nil {
				fmt.Printf("alertd: cpu profile: %v\n", err)
			}
		}()
	}
	atFlush := make(chan [2]float64, 1)
	go func() {
		time.Sleep(time.Until(flush))
		atFlush <- cpuNow(pid)
	}()
	deadline := flush.Add(o.timeout)
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
	idleCtx, cancel := context.WithTimeout(ctx, o.idle)
	busyUntil, err := proc.WaitIdle(idleCtx, pid, idleWindow)
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		fmt.Printf("%s: %v; measured anyway\n", system, err)
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
	r := &result{
		system: system, ingest: ingest, busyAfter: busyAfter, delivered: n, distinct: distinct, requests: requests,
		peakRSS: hwm, rss: rss, cpu: cpu1 - cpu0, ingestCPU: ingestCPU - cpu0, ingestRSS: ingestRSS,
		deliveryCPU: atLast[0] - at0[0], sinkCPU: atLast[1] - at0[1],
	}
	if !last.IsZero() {
		r.delivery = last.Sub(flush)
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

// cpuProfile writes to file a 5-second CPU profile of the process serving
// url, taken after wait.
func cpuProfile(ctx context.Context, url, file string, wait time.Duration) error {
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/debug/pprof/profile?seconds=5", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/profile: %s", resp.Status)
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
func buildBodies(o options, now time.Time) [][]byte {
	startsAt := strconv.Quote(now.UTC().Format(time.RFC3339Nano))
	endsAt := strconv.Quote(now.Add(time.Hour).UTC().Format(time.RFC3339Nano))
	var bodies [][]byte
	for first := 0; first < o.alerts; first += o.batch {
		var b []byte
		b = append(b, '[')
		for i := first; i < min(first+o.batch, o.alerts); i++ {
			if i > first {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"labels":{"alertname":"Load","group":"g%d","instance":"i%d"},"startsAt":%s,"endsAt":%s}`,
				i%o.groups, i, startsAt, endsAt)
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

func printTable(o options, rs []result) {
	fmt.Println()
	fmt.Printf("%-12s %9s %11s %13s %7s %10s\n", "system", "ingest-s", "delivery-s", "peak-rss-MiB", "cpu-s", "delivered")
	for _, r := range rs {
		delivery := fmt.Sprintf("%.3f", r.delivery.Seconds())
		if r.distinct < o.alerts {
			delivery = "incomplete"
		}
		fmt.Printf("%-12s %9.3f %11s %13.1f %7.2f %10d\n", r.system, r.ingest.Seconds(), delivery, r.peakRSS, r.cpu, r.distinct)
	}
	if len(rs) == 2 {
		am, ad := rs[0], rs[1]
		delivery := ratio(ad.delivery.Seconds(), am.delivery.Seconds())
		if ad.distinct < o.alerts || am.distinct < o.alerts {
			delivery = "-"
		}
		fmt.Printf("%-12s %9s %11s %13s %7s\n", "alertd/am",
			ratio(ad.ingest.Seconds(), am.ingest.Seconds()), delivery, ratio(ad.peakRSS, am.peakRSS), ratio(ad.cpu, am.cpu))
		fmt.Printf("%-12s %9s %11s %13s\n", "target", "<=0.200", "<=0.200", "<=0.250")
	}
	for _, r := range rs {
		if r.distinct < o.alerts {
			fmt.Printf("%s incomplete: %d of %d alerts delivered within %s of group_wait expiry\n",
				r.system, r.distinct, o.alerts, o.timeout)
		}
	}

	fmt.Println()
	fmt.Printf("%-12s %13s %8s %13s %15s %15s %13s %9s %11s\n", "details", "busy-after-s", "rss-MiB", "ingest-cpu-s", "ingest-rss-MiB", "delivery-cpu-s", "sink-cpu-s", "webhooks", "duplicates")
	for _, r := range rs {
		busy := "-"
		if r.busyAfter >= 0 {
			busy = fmt.Sprintf("%.2f", r.busyAfter.Seconds())
		}
		fmt.Printf("%-12s %13s %8.1f %13.2f %15.1f %15.2f %13.2f %9d %11d\n",
			r.system, busy, r.rss, r.ingestCPU, r.ingestRSS, r.deliveryCPU, r.sinkCPU, r.requests, r.delivered-r.distinct)
	}
	fmt.Println("delivery: group_wait expiry (first POST + group_wait) to the last alert received; busy-after: last alert received to the process idle (no CPU for 1s);")
	fmt.Println("peak RSS (VmHWM), rss, cpu (from the first POST) and duplicates: when idle; ingest-cpu, ingest-rss: when the last POST was answered;")
	fmt.Println("delivery-cpu, sink-cpu: CPU of the system and of this harness (its webhook sink) during the delivery.")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", a/b)
}

// version returns the first line of bin --version.
func version(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "version unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// daemon is a started alertd.
type daemon struct {
	cmd      *exec.Cmd
	out      *testenv.SyncBuffer
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// start starts bin with args; its output is kept, and also written to
// logFile if that is not nil.
func start(ctx context.Context, logFile io.Writer, bin string, args ...string) (*daemon, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &testenv.SyncBuffer{}
	var w io.Writer = out
	if logFile != nil {
		w = io.MultiWriter(out, logFile)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		close(d.exited)
	}()
	return d, nil
}

// waitReady polls url until it answers 200, the process exits, or
// startTimeout passes.
func (d *daemon) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
			return fmt.Errorf("alertd exited before it was ready (%s); output:\n%s", d.cmd.ProcessState, tail(d.out.String(), logLines))
		case <-ctx.Done():
			return fmt.Errorf("alertd not ready at %s: %w; output:\n%s", url, ctx.Err(), tail(d.out.String(), logLines))
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits up to stopTimeout before killing. It returns
// an error if the process did not exit cleanly; it is safe to call twice.
func (d *daemon) stop() error {
	d.stopOnce.Do(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(stopTimeout):
				_ = d.cmd.Process.Kill()
				<-d.exited
				d.stopErr = fmt.Errorf("alertd did not exit within %s of SIGTERM and was killed; output:\n%s", stopTimeout, tail(d.out.String(), logLines))
				return
			}
		}
		ps := d.cmd.ProcessState
		if ws, ok := ps.Sys().(syscall.WaitStatus); ps.Success() || ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return
		}
		d.stopErr = fmt.Errorf("alertd %s; output:\n%s", ps, tail(d.out.String(), logLines))
	})
	return d.stopErr
}

// sink is the webhook receiver of both systems: it counts the alerts
// each path receives.
type sink struct {
	mu       sync.Mutex
	counters map[string]*counter
}

func newSink() *sink { return &sink{counters: map[string]*counter{}} }

// expect starts counting the alerts sent to /path; the counter's wait
// returns once want distinct alerts have arrived.
func (s *sink) expect(path string, want int) *counter {
	c := &counter{want: want, seen: make(map[string]struct{}, want), done: make(chan struct{})}
	s.mu.Lock()
	s.counters[path] = c
	s.mu.Unlock()
	return c
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	c := s.counters[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if c == nil {
		http.NotFound(w, r)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	instances, err := alertInstances(buf.Bytes())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.add(now, instances)
	w.WriteHeader(http.StatusOK)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// alertInstances returns the instance label of each alert of a webhook
// message. The sink runs on the same two cores as the system measured, so
// it scans the bytes rather than decoding the JSON: both systems write the
// alerts array before groupLabels and the label as "instance":"<value>"
// (the values are i<n>). A message of another shape, or with an escape
// before groupLabels, is decoded in full.
func alertInstances(b []byte) ([]string, error) {
	const key = `"instance":"`
	end := bytes.Index(b, []byte(`"groupLabels":`))
	if end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 {
		var m struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out := make([]string, len(m.Alerts))
		for i, a := range m.Alerts {
			out[i] = a.Labels["instance"]
		}
		return out, nil
	}
	var out []string
	for rest := b[:end]; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return out, nil
		}
		rest = rest[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return nil, errors.New("unterminated instance label")
		}
		out = append(out, string(rest[:j]))
		rest = rest[j:]
	}
}

// counter counts the alerts of one system.
type counter struct {
	want int
	done chan struct{} // closed when want distinct alerts have arrived

	mu       sync.Mutex
	n        int
	requests int
	seen     map[string]struct{}
	last     time.Time
}

func (c *counter) add(now time.Time, instances []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if len(instances) == 0 {
		return
	}
	before := len(c.seen)
	c.n += len(instances)
	for _, in := range instances {
		c.seen[in] = struct{}{}
	}
	if now.After(c.last) {
		c.last = now
	}
	if before < c.want && len(c.seen) >= c.want {
		close(c.done)
	}
}

func (c *counter) state() (n, distinct, requests int, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, len(c.seen), c.requests, c.last
}

// wait returns when every alert has arrived or deadline has passed (nil
// both), or with an error when ctx ends or process pid is gone.
func (c *counter) wait(ctx context.Context, deadline time.Time, pid int) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil // reported as incomplete
			}
			return ctx.Err()
		case <-tick.C:
			if !proc.Running(pid) {
				n, distinct, _, _ := c.state()
				return fmt.Errorf("process %d exited after %d alerts (%d distinct) were delivered", pid, n, distinct)
			}
		}
	}
}
