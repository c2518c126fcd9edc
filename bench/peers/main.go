// Command peers measures alertd side by side with what it replaces —
// Prometheus's rule manager, vmalert and Alertmanager 0.25, Debian's
// packages — on this machine, on loopback, in one run, and writes the
// figures, the ratios alertd / peer and the targets as a markdown
// section (docs/benchmarks.md, between its bench-peers markers) and to
// stdout. Scenarios:
//
//   - eval: 200 rules × 50 series at 5s against one real Prometheus: CPU
//     and peak RSS of alertd, of vmalert (notifying a real Alertmanager),
//     and of Prometheus's own rule manager (a Prometheus with the rules
//     minus one without, over the same window); alertd's group
//     evaluation time and missed iterations.
//   - eval-scale: 2,000 rules × 50 series, evaluated every minute.
//   - notify: 100,000 alerts in 10,000 groups into alertd and Alertmanager
//     (bench/amload's load): ingest, flush to last delivery, peak RSS.
//   - e2e: a scraped value changes → the webhook gets the notification,
//     alertd against Prometheus rules + Alertmanager.
//
// Every scenario checks that each system produced exactly the expected
// alerts and notifications first, and reports a failure instead of figures
// when one did not.
//
//	make bench-peers            # all of it (about 15 minutes), into docs/benchmarks.md
//	make bench-peers SHORT=1    # a quick check (under 3 minutes), stdout only
//	go run ./bench/peers -short -scenarios notify,e2e -out /tmp/peers.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
	"github.com/alertd/alertd/bench/internal/ruleload"
	"github.com/alertd/alertd/internal/testenv"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// Scenario names, in the order they run.
const (
	scenarioEval      = "eval"
	scenarioEvalScale = "eval-scale"
	scenarioNotify    = "notify"
	scenarioE2E       = "e2e"
)

func allScenarios() []string {
	return []string{scenarioEval, scenarioEvalScale, scenarioNotify, scenarioE2E}
}

// config is what a run does.
type config struct {
	alertd    string
	short     bool
	scenarios []string
	// eval and evalScale are the evaluation scenarios.
	eval, evalScale evalSpec
	notify          alertload.Options
	e2e             e2eOptions
}

// evalSpec is an evaluation scenario: the load, the scrape interval of
// the Prometheus the systems query, and the time before and of each
// measurement.
type evalSpec struct {
	Load           ruleload.Load
	Scrape         time.Duration
	Warmup, Window time.Duration
}

// newConfig returns the full or the short run.
//
// The scale run evaluates every minute, Prometheus's default: 2,000 rules
// every 5s would be 400 queries a second, which none of the systems, nor
// the Prometheus they query, can serve on the two cores this runs on; at a
// minute the query rate is the base run's and the state is ten times as
// large. Its warm-up exceeds the interval so that every group has
// evaluated before the window, and the window is one interval: each group
// evaluates once in it.
func newConfig(short bool) config {
	c := config{
		alertd:    "bin/alertd",
		short:     short,
		scenarios: allScenarios(),
		eval: evalSpec{
			Load:   ruleload.Load{Rules: 200, Series: 50, Groups: 10, Interval: 5 * time.Second},
			Scrape: 5 * time.Second, Warmup: 20 * time.Second, Window: time.Minute,
		},
		evalScale: evalSpec{
			Load:   ruleload.Load{Rules: 2000, Series: 50, Groups: 100, Interval: time.Minute},
			Scrape: 15 * time.Second, Warmup: 70 * time.Second, Window: time.Minute,
		},
		notify: alertload.Options{
			Alerts: 100_000, Batch: 1000, Groups: 10_000, GroupWait: 10 * time.Second,
			Timeout: 2 * time.Minute, Idle: 30 * time.Second,
		},
		e2e: e2eOptions{
			Repeats: 20, Scrape: time.Second, Eval: time.Second, For: 0, GroupWait: time.Second,
			Timeout: 30 * time.Second,
		},
	}
	if short {
		// Each evaluation scenario costs about half a minute of starts and
		// stops plus three warm-ups and windows: one interval each.
		c.eval = evalSpec{
			Load:   ruleload.Load{Rules: 50, Series: 50, Groups: 5, Interval: 5 * time.Second},
			Scrape: 5 * time.Second, Warmup: 5 * time.Second, Window: 5 * time.Second,
		}
		c.evalScale = evalSpec{
			Load:   ruleload.Load{Rules: 200, Series: 50, Groups: 10, Interval: 5 * time.Second},
			Scrape: 5 * time.Second, Warmup: 5 * time.Second, Window: 5 * time.Second,
		}
		c.notify.Alerts, c.notify.Groups, c.notify.GroupWait = 10_000, 1000, 2*time.Second
		c.notify.Timeout, c.notify.Idle = time.Minute, 10*time.Second
		c.e2e.Repeats = 2
	}
	return c
}

// parseScenarios reads -scenarios: names separated by commas, or "all".
func parseScenarios(s string) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return allScenarios(), nil
	}
	want := map[string]bool{}
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(allScenarios(), name) {
			return nil, fmt.Errorf("-scenarios: unknown scenario %q (known: %s)", name, strings.Join(allScenarios(), ", "))
		}
		want[name] = true
	}
	var out []string
	for _, name := range allScenarios() {
		if want[name] {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-scenarios: no scenario named")
	}
	return out, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alertd := fs.String("alertd", "bin/alertd", "path of the alertd binary (make build)")
	short := fs.Bool("short", false, "smaller loads, shorter windows, fewer repeats (under 3 minutes); writes to stdout only unless -out is given")
	out := fs.String("out", "docs/benchmarks.md", "markdown file whose bench-peers section receives the report; empty: stdout only")
	scenarios := fs.String("scenarios", "all", "scenarios to run, separated by commas: "+strings.Join(allScenarios(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	outPath := output(*short, *out, outSet)
	c := newConfig(*short)
	c.alertd = *alertd
	var err error
	if c.scenarios, err = parseScenarios(*scenarios); err != nil {
		return err
	}
	if err := checkBinaries(c); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := runScenarios(ctx, c, stderr)
	if err != nil {
		return err
	}
	md := rep.Markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if outPath != "" {
		if err := writeSection(outPath, md); err != nil {
			return err
		}
		_, _ = fmt.Fprintf(stderr, "peers: report written to %s\n", outPath)
	}
	if rep.Failed() {
		return errors.New("a check failed: the report shows FAILED where a system produced the wrong alerts or could not be run")
	}
	return nil
}

// output is the file the report goes into: -out, except that a short run
// writes to stdout only unless -out was given, so that a quick check does
// not overwrite the real figures.
func output(short bool, out string, outSet bool) string {
	if short && !outSet {
		return ""
	}
	return out
}

// checkBinaries fails early, saying how to install what is missing.
func checkBinaries(c config) error {
	if _, err := os.Stat(c.alertd); err != nil {
		return fmt.Errorf("alertd binary %s: %w (make build)", c.alertd, err)
	}
	var errs []error
	for _, p := range peerPackages() {
		if _, err := testenv.FindBinary(p.Binary); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runScenarios runs the scenarios of c one after the other, logging
// progress to log. It returns an error only when the run was interrupted
// or the harness itself could not work; a system that fails is in the
// report.
func runScenarios(ctx context.Context, c config, log io.Writer) (*report, error) {
	dir, err := os.MkdirTemp("", "bench-peers")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	h := &harness{alertd: c.alertd, dir: dir, log: log}
	rep := &report{Date: time.Now(), Machine: readMachine(ctx), Short: c.short}

	for i, s := range c.scenarios {
		var spec evalSpec
		switch s {
		case scenarioEval:
			spec = c.eval
		case scenarioEvalScale:
			spec = c.evalScale
		default:
			continue
		}
		e, err := runEval(ctx, h, filepath.Join(h.dir, "eval-"+strconv.Itoa(i)), spec)
		if err != nil {
			return nil, err
		}
		rep.Evals = append(rep.Evals, *e)
	}
	if slices.Contains(c.scenarios, scenarioNotify) {
		n, err := runNotify(ctx, h, c.notify)
		if err != nil {
			return nil, err
		}
		rep.Notify = n
	}
	if slices.Contains(c.scenarios, scenarioE2E) {
		e, err := runE2E(ctx, h, c.e2e)
		if err != nil {
			return nil, err
		}
		rep.E2E = e
	}
	return rep, nil
}

// harness is what the scenarios share.
type harness struct {
	alertd string
	// dir holds every system's files; each scenario takes a subdirectory.
	dir string
	log io.Writer
}

func (h *harness) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(h.log, "peers: "+format+"\n", args...)
}
