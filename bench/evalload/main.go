// Command evalload measures the CPU and memory an alert evaluator uses for
// a fixed load against a real Prometheus: R alerting rules, each returning
// S firing series, at an interval I (default 200 × 50 at 5s). It runs
// alertd and, when installed, vmalert on the same load one after the other,
// and prints CPU cores used and resident memory.
//
//	go run ./bench/evalload -alertd bin/alertd -duration 60s
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "evalload:", err)
		os.Exit(1)
	}
}

type options struct {
	alertd   string
	vmalert  bool
	rules    int
	series   int
	groups   int
	interval time.Duration
	warmup   time.Duration
	duration time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.alertd, "alertd", "bin/alertd", "path of the alertd binary")
	flag.BoolVar(&o.vmalert, "vmalert", true, "also measure vmalert, if installed")
	flag.IntVar(&o.rules, "rules", 200, "alerting rules")
	flag.IntVar(&o.series, "series", 50, "firing series per rule")
	flag.IntVar(&o.groups, "groups", 10, "rule groups the rules are spread over")
	flag.DurationVar(&o.interval, "interval", 5*time.Second, "evaluation interval")
	flag.DurationVar(&o.warmup, "warmup", 20*time.Second, "time before measuring")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured time")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "evalload")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	target, err := testenv.NewTargetServer("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = target.Close() }()
	values := map[string]float64{}
	for r := range o.rules {
		for s := range o.series {
			values[fmt.Sprintf(`bench_metric{job="bench",rule="r%d",instance="host-%d:9100"}`, r, s)] = float64(s + 1)
		}
	}
	target.SetMany(values)

	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return err
	}
	prom, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{
		ScrapeTargets:  []string{target.HostPort},
		ScrapeInterval: o.interval,
		Dir:            filepath.Join(dir, "prometheus"),
		Stdout:         io.Discard,
	})
	if err != nil {
		return err
	}
	defer func() { _ = prom.Stop() }()
	if err := prom.WaitForScrape(ctx, `bench_metric{rule="r0"}`); err != nil {
		return err
	}

	rulesFile := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesFile, []byte(ruleFile(o)), 0o600); err != nil {
		return err
	}
	fmt.Printf("load: %d rules x %d firing series = %d alerts, interval %s, %d groups; warm-up %s, measured %s\n",
		o.rules, o.series, o.rules*o.series, o.interval, o.groups, o.warmup, o.duration)
	fmt.Printf("%-10s %10s %12s %12s %12s\n", "system", "cpu-cores", "cpu-s/min", "rss-MiB", "peak-rss-MiB")

	// Both systems send their alerts to the same sink, which accepts the
	// Alertmanager v2 API and drops them.
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sinkSrv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = sinkSrv.Serve(sink) }()
	defer func() { _ = sinkSrv.Close() }()

	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "global: {evaluation_interval: %s}\ndatasource: {url: %s}\nrule_files: [%q]\nalertmanagers: [{static_configs: [{targets: [%q]}]}]\n",
		o.interval, prom.URL, rulesFile, sink.Addr().String()), 0o600); err != nil {
		return err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	if err := measure(ctx, o, "alertd", o.alertd, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn"); err != nil {
		return err
	}
	if o.vmalert {
		vm, err := testenv.FindBinary("vmalert")
		if err != nil {
			fmt.Println("vmalert    not installed (apt-get install victoria-metrics)")
			return nil
		}
		port, err := testenv.FreePort()
		if err != nil {
			return err
		}
		if err := measure(ctx, o, "vmalert", vm, "-datasource.url="+prom.URL, "-rule="+rulesFile, "-notifier.url=http://"+sink.Addr().String(),
			"-evaluationInterval="+o.interval.String(), "-httpListenAddr=127.0.0.1:"+strconv.Itoa(port), "-loggerLevel=ERROR"); err != nil {
			return err
		}
	}
	return nil
}

func ruleFile(o options) string {
	var b strings.Builder
	b.WriteString("groups:\n")
	per := (o.rules + o.groups - 1) / o.groups
	for g := range o.groups {
		fmt.Fprintf(&b, "- name: bench-%d\n  interval: %s\n  rules:\n", g, o.interval)
		for r := g * per; r < min((g+1)*per, o.rules); r++ {
			fmt.Fprintf(&b, `  - alert: BenchAlert%d
    expr: bench_metric{rule="r%d"} > 0
    labels: {severity: warning}
    annotations:
      summary: "Instance {{ $labels.instance }} of job {{ $labels.job }} is firing"
      description: "Value is {{ $value | humanize }}"
`, r, r)
		}
	}
	return b.String()
}

// measure runs a command, lets it warm up, and reports the CPU it used and
// its memory over the measured time.
func measure(ctx context.Context, o options, name, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", name, err, stderr.String())
		}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-exited:
		exited <- err
		return fmt.Errorf("%s exited during warm-up: %w\n%s", name, err, stderr.String())
	case <-time.After(o.warmup):
	}
	cpu0, err := proc.CPUSeconds(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-exited:
		exited <- err
		return fmt.Errorf("%s exited while measured: %w\n%s", name, err, stderr.String())
	case <-time.After(o.duration):
	}
	cpu1, err := proc.CPUSeconds(pid)
	if err != nil {
		return err
	}
	elapsed := time.Since(start).Seconds()
	rss, hwm, err := proc.Memory(pid)
	if err != nil {
		return err
	}
	cores := (cpu1 - cpu0) / elapsed
	fmt.Printf("%-10s %10.3f %12.2f %12.1f %12.1f\n", name, cores, cores*60, rss, hwm)
	return nil
}
