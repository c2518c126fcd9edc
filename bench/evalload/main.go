// Command evalload measures the CPU and memory an alert evaluator uses for
// a fixed load against a real Prometheus: R alerting rules, each returning
// S firing series, at an interval I (default 200 × 50 at 5s). It runs
// alertd and, when installed, vmalert on the same load one after the other,
// and prints CPU cores used and resident memory.
//
//	go run ./bench/evalload -alertd bin/alertd -duration 60s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/alertd/alertd/bench/internal/daemon"
	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/bench/internal/ruleload"
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
	load     ruleload.Load
	warmup   time.Duration
	duration time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.alertd, "alertd", "bin/alertd", "path of the alertd binary")
	flag.BoolVar(&o.vmalert, "vmalert", true, "also measure vmalert, if installed")
	flag.IntVar(&o.load.Rules, "rules", 200, "alerting rules")
	flag.IntVar(&o.load.Series, "series", 50, "firing series per rule")
	flag.IntVar(&o.load.Groups, "groups", 10, "rule groups the rules are spread over")
	flag.DurationVar(&o.load.Interval, "interval", 5*time.Second, "evaluation interval")
	flag.DurationVar(&o.warmup, "warmup", 20*time.Second, "time before measuring")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured time")
	flag.Parse()
	if o.load.Rules <= 0 || o.load.Series <= 0 || o.load.Groups <= 0 || o.load.Interval <= 0 || o.duration <= 0 || o.warmup < 0 {
		return errors.New("-rules, -series, -groups, -interval and -duration must be positive, -warmup not negative")
	}

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
	target.SetMany(o.load.Values())

	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return err
	}
	prom, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{
		ScrapeTargets:  []string{target.HostPort},
		ScrapeInterval: o.load.Interval,
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
	if err := os.WriteFile(rulesFile, []byte(o.load.RuleFile()), 0o600); err != nil {
		return err
	}
	fmt.Printf("load: %d rules x %d firing series = %d alerts, interval %s, %d groups; warm-up %s, measured %s\n",
		o.load.Rules, o.load.Series, o.load.Alerts(), o.load.Interval, o.load.Groups, o.warmup, o.duration)
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
		o.load.Interval, prom.URL, rulesFile, sink.Addr().String()), 0o600); err != nil {
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
			"-evaluationInterval="+o.load.Interval.String(), "-httpListenAddr=127.0.0.1:"+strconv.Itoa(port), "-loggerLevel=ERROR"); err != nil {
			return err
		}
	}
	return nil
}

// measure runs a command, lets it warm up, and reports the CPU it used and
// its memory over the measured time.
func measure(ctx context.Context, o options, name, bin string, args ...string) error {
	d, err := daemon.Start(ctx, name, nil, bin, args...)
	if err != nil {
		return err
	}
	defer func() {
		if err := d.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		}
	}()
	timer := time.NewTimer(o.warmup)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.Exited():
		return fmt.Errorf("%s exited during warm-up; output:\n%s", name, daemon.Tail(d.Output(), daemon.LogLines))
	case <-timer.C:
	}
	u, err := proc.Measure(ctx, o.duration, d.Pid())
	if err != nil {
		return fmt.Errorf("%s: %w; output:\n%s", name, err, daemon.Tail(d.Output(), daemon.LogLines))
	}
	fmt.Printf("%-10s %10.3f %12.2f %12.1f %12.1f\n", name, u[0].Cores(), u[0].PerMinute(), u[0].RSS, u[0].PeakRSS)
	return nil
}
