// Command demo is `make demo`: alertd end to end on this machine, with
// nothing but a real Prometheus (Debian's package) besides alertd itself.
//
// It serves a scrape target with a temperature, starts Prometheus scraping
// it, and starts `alertd run` with the example rules, a route and two local
// receivers that it runs itself: a console webhook sink and a mail catcher
// (an SMTP server), both printing what they receive. Then it heats the room
// up and cools it down, and narrates the alert going pending → firing →
// notified → resolved, with timestamps. Everything listens on 127.0.0.1 and
// lives in a temporary directory; Ctrl-C (SIGINT or SIGTERM) stops all of
// it, alertd and Prometheus included, within bounded waits.
//
// With -once it exits 0 as soon as the resolved notifications have
// arrived, and 1 when a step does not happen within -step-timeout: the
// test in main_test.go runs it that way.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// options are the demo's flags.
type options struct {
	alertd      string // the alertd binary
	rules       string // the rule file with DemoTemperatureHigh
	templates   string // a glob of message template files
	once        bool   // exit once the alert has resolved
	stepTimeout time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.alertd, "alertd", "bin/alertd", "the alertd binary to run")
	flag.StringVar(&o.rules, "rules", "examples/rules/demo.yml", "the rule file (it must have the DemoTemperatureHigh alert)")
	flag.StringVar(&o.templates, "templates", "examples/templates/*.tmpl", "message template files (glob)")
	flag.BoolVar(&o.once, "once", false, "exit 0 as soon as the resolved notifications arrived, instead of running until Ctrl-C")
	flag.DurationVar(&o.stepTimeout, "step-timeout", time.Minute, "how long each step may take before the demo fails")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// The demo's names and numbers. The rule file says what "high" is (above
// 30°C for 4s, kept firing 4s after it cools down).
const (
	alertName   = "DemoTemperatureHigh"
	series      = `demo_temperature_celsius{job="demo",room="lab"}`
	normalTemp  = 21
	hotTemp     = 35
	coolTemp    = 20
	mailTo      = "oncall@demo.invalid"
	pollEvery   = 200 * time.Millisecond
	stopTimeout = 15 * time.Second // alertd's own SIGTERM drain is bounded by 15s
)

// run runs the demo until it is done (with o.once) or ctx ends. An
// interruption (ctx ending) is not an error: everything started is stopped
// and run returns nil.
func run(ctx context.Context, o options, stdout io.Writer) (err error) {
	n := &narrator{w: stdout, start: time.Now()}
	if o.stepTimeout <= 0 {
		o.stepTimeout = time.Minute
	}
	rules, err := filepath.Abs(o.rules)
	if err != nil {
		return err
	}
	templates, err := filepath.Abs(o.templates)
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.alertd); err != nil {
		return fmt.Errorf("alertd binary: %w (make demo builds it into bin/alertd)", err)
	}
	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return err
	}

	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	n.say("alertd's web UI will be at %s/ — Ctrl-C stops the demo and everything it started", base)

	dir, err := os.MkdirTemp("", "alertd-demo-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()

	// Started in this order, stopped in the reverse one by the defers.
	target, err := testenv.NewTargetServer("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, target.Close()) }()
	target.Set(series, normalTemp)
	n.say("scrape target at %s/metrics: %s = %d", target.URL, series, normalTemp)

	notes := make(chan notification, notificationBuffer)
	hook, err := startWebhookSink(n, notes)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, hook.close()) }()
	n.say("console receiver (a webhook sink) at %s", hook.url)
	catcher, err := startMailCatcher(n, notes)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, catcher.close()) }()
	n.say("mail catcher (an SMTP server) at %s", catcher.addr)

	n.say("starting Prometheus (%s)", promBin)
	prom, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{
		ScrapeTargets: []string{target.HostPort},
		Stdout:        io.Discard,
	})
	if err != nil {
		return interrupted(ctx, n, fmt.Errorf("prometheus: %w", err))
	}
	defer func() {
		n.say("stopping Prometheus")
		err = errors.Join(err, prom.Stop())
	}()
	n.say("Prometheus is up at %s; waiting for its first scrape of the target (about 5s)", prom.URL)
	scrapeCtx, cancel := context.WithTimeout(ctx, o.stepTimeout)
	err = prom.WaitForScrape(scrapeCtx, "demo_temperature_celsius")
	cancel()
	if err != nil {
		return interrupted(ctx, n, fmt.Errorf("prometheus's first scrape of the target: %w", err))
	}
	n.say("Prometheus has scraped the target")

	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, alertdConfig(prom.URL, rules, templates, hook.url, catcher.addr), 0o600); err != nil {
		return err
	}
	n.say("starting alertd run --config.file=%s", cfg)
	d, err := startAlertd(o.alertd, []string{
		"run", "--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port), "--web.external-url=" + base, "--log.level=warn",
	}, &prefixWriter{n: n, prefix: "alertd: "})
	if err != nil {
		return err
	}
	defer func() {
		n.say("stopping alertd")
		err = errors.Join(err, d.stop(stopTimeout))
	}()

	s := &story{n: n, o: o, base: base, notes: notes, alertd: d}
	if err := s.wait(ctx, "alertd to be ready", func(ctx context.Context) (bool, error) {
		_, err := get(ctx, base+"/-/ready")
		return err == nil, nil
	}); err != nil {
		return interrupted(ctx, n, err)
	}
	n.say("alertd is up: UI %s/, API %s/api/v1/alerts, metrics %s/metrics", base, base, base)
	if err := s.tell(ctx, target); err != nil {
		return interrupted(ctx, n, err)
	}
	if o.once {
		n.say("demo done")
		return nil
	}
	n.say("demo done; alertd keeps running: open %s/ (or try `amtool --alertmanager.url=%s alert query`); Ctrl-C stops everything", base, base)
	select {
	case <-ctx.Done():
		n.say("interrupted")
	case <-d.done:
		return fmt.Errorf("alertd exited: %s", d.cmd.ProcessState)
	}
	return nil
}

// interrupted turns err into nil when it is only the demo being stopped.
func interrupted(ctx context.Context, n *narrator, err error) error {
	if ctx.Err() != nil {
		n.say("interrupted")
		return nil
	}
	return err
}

// alertdConfig is the demo's alertd.yml: the example rules and templates,
// a route with a grouping and two receivers, the local ones.
func alertdConfig(promURL, rules, templates, hookURL, smarthost string) []byte {
	return fmt.Appendf(nil, `# Written by make demo (scripts/demo). Short timers, so that the whole
# story takes well under a minute.
global:
  evaluation_interval: 2s
  external_labels:
    demo: make-demo
  smtp_smarthost: %[5]s
  smtp_from: alertd@demo.invalid
  smtp_require_tls: false     # the mail catcher is plain SMTP on 127.0.0.1
datasource:
  url: %[1]s
rule_files: [%[2]q]
templates: [%[3]q]
route:
  receiver: console
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - receiver: mail            # warnings and criticals are mailed …
      matchers: ['severity=~"warning|critical"']
      continue: true
    - receiver: console         # … and everything goes to the console
receivers:
  - name: console
    webhook_configs:
      - url: %[4]s
  - name: mail
    email_configs:
      - to: %[6]s
        send_resolved: true
        headers:
          Subject: '{{ template "alertd.email.subject" . }}'
        text: '{{ template "alertd.email.text" . }}'
`, promURL, rules, templates, hookURL, smarthost, mailTo)
}

// story is the demo's sequence of steps.
type story struct {
	n      *narrator
	o      options
	base   string
	notes  <-chan notification
	alertd *daemon
}

// tell heats the room up, waits for each step of the alert, then cools it
// down and waits for the resolved notifications.
func (s *story) tell(ctx context.Context, target *testenv.Target) error {
	s.n.say("heating the lab up: %s = %d (the rule fires above 30 after 4s)", series, hotTemp)
	target.Set(series, hotTemp)
	if err := s.waitAlert(ctx, "1/4 pending", "pending"); err != nil {
		return err
	}
	if err := s.waitAlert(ctx, "2/4 firing", "firing"); err != nil {
		return err
	}
	if err := s.waitNotes(ctx, "3/4 notified", "firing"); err != nil {
		return err
	}
	s.n.say("cooling the lab down: %s = %d (keep_firing_for holds the alert 4s more)", series, coolTemp)
	target.Set(series, coolTemp)
	return s.waitNotes(ctx, "4/4 resolved", "resolved")
}

// waitAlert waits until /api/v1/alerts shows the alert in state.
func (s *story) waitAlert(ctx context.Context, step, state string) error {
	return s.wait(ctx, "step "+step, func(ctx context.Context) (bool, error) {
		as, err := alerts(ctx, s.base)
		if err != nil {
			return false, nil // alertd may be busy for a moment; the step's bound decides
		}
		for _, a := range as {
			if a.Labels["alertname"] == alertName && a.State == state {
				s.n.say("STEP %s: %s is %s since %s %s: %s", step, alertName, state,
					a.ActiveAt.Local().Format("15:04:05"), labelString(a.Labels), a.Annotations["summary"])
				return true, nil
			}
		}
		return false, nil
	})
}

// waitNotes waits until both receivers, the webhook and the mail, got a
// notification of the alert with status.
func (s *story) waitNotes(ctx context.Context, step, status string) error {
	stepCtx, cancel := context.WithTimeout(ctx, s.o.stepTimeout)
	defer cancel()
	got := map[string]bool{}
	for !got["webhook"] || !got["mail"] {
		select {
		case nt := <-s.notes:
			if nt.alertname == alertName && nt.status == status {
				got[nt.via] = true
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-stepCtx.Done():
			return fmt.Errorf("step %s (a %s notification by webhook and by mail) did not happen within %v", step, status, s.o.stepTimeout)
		case <-s.alertd.done:
			return fmt.Errorf("waiting for step %s: alertd exited: %s", step, s.alertd.cmd.ProcessState)
		}
	}
	s.n.say("STEP %s: %s notifications delivered to the console and to %s", step, status, mailTo)
	return nil
}

// wait polls fn until it reports done, alertd exits, ctx ends, or the step
// timeout passes.
func (s *story) wait(ctx context.Context, what string, fn func(context.Context) (bool, error)) error {
	stepCtx, cancel := context.WithTimeout(ctx, s.o.stepTimeout)
	defer cancel()
	for {
		ok, err := fn(stepCtx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stepCtx.Done():
			return fmt.Errorf("%s did not happen within %v", what, s.o.stepTimeout)
		case <-s.alertd.done:
			return fmt.Errorf("waiting for %s: alertd exited: %s", what, s.alertd.cmd.ProcessState)
		case <-time.After(pollEvery):
		}
	}
}

// apiAlert is an alert of /api/v1/alerts.
type apiAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

func alerts(ctx context.Context, base string) ([]apiAlert, error) {
	body, err := get(ctx, base+"/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct {
			Alerts []apiAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("GET /api/v1/alerts: %w", err)
	}
	return r.Data.Alerts, nil
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, err
}

// daemon is the alertd process, in a process group of its own so that
// stopping it stops anything it might start, and so that the terminal's
// Ctrl-C reaches the demo, which then stops it in order.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

func startAlertd(bin string, args []string, out io.Writer) (*daemon, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	// Wait returns this long after the process exited even if the output
	// pipes are still held open.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start alertd: %w", err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		close(d.done)
	}()
	return d, nil
}

// stop sends SIGTERM to alertd's process group, waits up to timeout, then
// kills the group. It returns an error if alertd had to be killed or did
// not exit cleanly.
func (d *daemon) stop(timeout time.Duration) error {
	select {
	case <-d.done:
	default:
		_ = signalGroup(d.cmd.Process.Pid, syscall.SIGTERM)
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-d.done:
		case <-timer.C:
			_ = signalGroup(d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.done
			return fmt.Errorf("alertd did not stop within %v of SIGTERM and was killed", timeout)
		}
	}
	// Anything left in the group (alertd starts nothing, but a wrapper
	// might) goes too.
	_ = signalGroup(d.cmd.Process.Pid, syscall.SIGKILL)
	if ps := d.cmd.ProcessState; ps != nil && !ps.Success() {
		return fmt.Errorf("alertd %s", ps)
	}
	return nil
}

// narrator prints the demo's lines with the time and the time since the
// start; the receivers print from their own goroutines.
type narrator struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (n *narrator) say(format string, args ...any) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	_, _ = fmt.Fprintf(n.w, "[%s +%5.1fs] %s\n", now.Format("15:04:05"), now.Sub(n.start).Seconds(), fmt.Sprintf(format, args...))
}

// prefixWriter prints each line written to it through the narrator.
type prefixWriter struct {
	n      *narrator
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.n.say("%s%s", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func labelString(ls map[string]string) string {
	pairs := make([]string, 0, len(ls))
	for k, v := range ls {
		if k != "alertname" {
			pairs = append(pairs, k+"="+strconv.Quote(v))
		}
	}
	sort.Strings(pairs)
	return "{" + strings.Join(pairs, ", ") + "}"
}

// indent prefixes every line of s, without trailing blanks on empty lines.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(prefix+l, " ")
	}
	return strings.Join(lines, "\n")
}
