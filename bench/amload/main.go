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
// With -rounds N it does that N times, Alertmanager and alertd in turn,
// and reports each round and then each figure's median over the rounds
// (the ratios are the medians' ratios): a machine whose speed drifts from
// one minute to the next then weighs on both systems alike.
//
//	make build && go run ./bench/amload -alertd bin/alertd
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "amload:", err)
		os.Exit(1)
	}
}

func run() error {
	o := alertload.Options{Log: os.Stdout}
	am := flag.Bool("alertmanager", true, "also measure Alertmanager (prometheus-alertmanager)")
	rounds := flag.Int("rounds", 1, "how many times to measure each system, in turn; more than one reports the medians")
	sinkServer := flag.String("sink", alertload.SinkLean, "the webhook receiver's server: "+alertload.SinkLean+" or "+alertload.SinkNetHTTP)
	flag.StringVar(&o.Alertd, "alertd", "bin/alertd", "path of the alertd binary")
	flag.IntVar(&o.Alerts, "alerts", 100_000, "alerts posted")
	flag.IntVar(&o.Batch, "batch", 1000, "alerts per POST")
	flag.IntVar(&o.Groups, "groups", 10_000, "groups the alerts are spread over (group_by: [group])")
	flag.DurationVar(&o.GroupWait, "group-wait", 10*time.Second, "group_wait of the route")
	flag.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "how long after group_wait expiry to wait for every alert to be delivered")
	flag.DurationVar(&o.Idle, "idle-timeout", 30*time.Second, "how long after the last delivery to wait for the process to go idle before measuring it")
	flag.StringVar(&o.AlertdLog, "alertd-log", "", "file to write alertd's whole output to (with -rounds, the last round's)")
	harnessProfile := flag.String("cpuprofile", "", "file to write a CPU profile of this harness (its webhook sink included) to, over the whole run")
	flag.StringVar(&o.Profile, "alertd-cpuprofile", "", "file to write a CPU profile of alertd's delivery to (from /debug/pprof, 5s from group_wait expiry; with -rounds, the last round's)")
	flag.StringVar(&o.AllocProfile, "alertd-allocprofile", "", "file to write a profile of the memory alertd allocates during its delivery to (from /debug/pprof, 5s from group_wait expiry; with -rounds, the last round's)")
	flag.Parse()
	if err := o.Validate(); err != nil {
		return err
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds must be positive, not %d", *rounds)
	}

	if *harnessProfile != "" {
		f, err := os.Create(*harnessProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "amload")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	sink, sinkURL, stopSink, err := alertload.StartSink(*sinkServer)
	if err != nil {
		return err
	}
	defer stopSink()

	fmt.Printf("load: %d alerts in POSTs of %d over %d groups; group_wait %s, webhook receiver (%s server); delivery waited for up to %s after group_wait\n",
		o.Alerts, o.Batch, o.Groups, o.GroupWait, *sinkServer, o.Timeout)
	var rs [][]alertload.Result // per round: Alertmanager's (if measured), then alertd's
	for round := range *rounds {
		var results []alertload.Result
		if *am {
			r, err := alertload.RunAlertmanager(ctx, o, filepath.Join(dir, fmt.Sprintf("alertmanager-%d", round)), sink, sinkURL)
			if err != nil {
				return err
			}
			if r != nil {
				results = append(results, *r)
			}
		}
		r, err := alertload.RunAlertd(ctx, o, filepath.Join(dir, fmt.Sprintf("alertd-%d", round)), sink, sinkURL)
		if err != nil {
			return err
		}
		results = append(results, *r)
		if *rounds > 1 {
			fmt.Printf("\nround %d of %d:\n", round+1, *rounds)
		}
		printTable(o, results)
		rs = append(rs, results)
	}
	if *rounds > 1 {
		fmt.Printf("\nmedians over %d rounds:\n", *rounds)
		printTable(o, medians(rs))
	}
	return nil
}

// medians returns, for each system, a Result holding the median of each
// figure over the rounds, with the fewest distinct alerts and the most
// duplicates of any round.
func medians(rounds [][]alertload.Result) []alertload.Result {
	out := make([]alertload.Result, len(rounds[0]))
	for i := range out {
		med := func(f func(r alertload.Result) float64) float64 {
			v := make([]float64, len(rounds))
			for k, rs := range rounds {
				v[k] = f(rs[i])
			}
			slices.Sort(v)
			if n := len(v); n%2 == 0 {
				return (v[n/2-1] + v[n/2]) / 2
			}
			return v[len(v)/2]
		}
		dur := func(f func(r alertload.Result) time.Duration) time.Duration {
			return time.Duration(med(func(r alertload.Result) float64 { return float64(f(r)) }))
		}
		m := alertload.Result{
			System:      rounds[0][i].System,
			Ingest:      dur(func(r alertload.Result) time.Duration { return r.Ingest }),
			Delivery:    dur(func(r alertload.Result) time.Duration { return r.Delivery }),
			BusyAfter:   dur(func(r alertload.Result) time.Duration { return r.BusyAfter }),
			Requests:    int(med(func(r alertload.Result) float64 { return float64(r.Requests) })),
			PeakRSS:     med(func(r alertload.Result) float64 { return r.PeakRSS }),
			RSS:         med(func(r alertload.Result) float64 { return r.RSS }),
			CPU:         med(func(r alertload.Result) float64 { return r.CPU }),
			IngestCPU:   med(func(r alertload.Result) float64 { return r.IngestCPU }),
			IngestRSS:   med(func(r alertload.Result) float64 { return r.IngestRSS }),
			DeliveryCPU: med(func(r alertload.Result) float64 { return r.DeliveryCPU }),
			SinkCPU:     med(func(r alertload.Result) float64 { return r.SinkCPU }),
		}
		// The fewest distinct alerts and the most duplicates of any round.
		dups := 0
		m.Distinct = rounds[0][i].Distinct
		for _, rs := range rounds {
			m.Distinct = min(m.Distinct, rs[i].Distinct)
			dups = max(dups, rs[i].Delivered-rs[i].Distinct)
		}
		m.Delivered = m.Distinct + dups
		out[i] = m
	}
	return out
}

func printTable(o alertload.Options, rs []alertload.Result) {
	fmt.Println()
	fmt.Printf("%-12s %9s %11s %13s %7s %10s\n", "system", "ingest-s", "delivery-s", "peak-rss-MiB", "cpu-s", "delivered")
	for _, r := range rs {
		delivery := fmt.Sprintf("%.3f", r.Delivery.Seconds())
		if r.Distinct < o.Alerts {
			delivery = "incomplete"
		}
		fmt.Printf("%-12s %9.3f %11s %13.1f %7.2f %10d\n", r.System, r.Ingest.Seconds(), delivery, r.PeakRSS, r.CPU, r.Distinct)
	}
	if len(rs) == 2 {
		am, ad := rs[0], rs[1]
		delivery := ratio(ad.Delivery.Seconds(), am.Delivery.Seconds())
		if ad.Distinct < o.Alerts || am.Distinct < o.Alerts {
			delivery = "-"
		}
		fmt.Printf("%-12s %9s %11s %13s %7s\n", "alertd/am",
			ratio(ad.Ingest.Seconds(), am.Ingest.Seconds()), delivery, ratio(ad.PeakRSS, am.PeakRSS), ratio(ad.CPU, am.CPU))
		fmt.Printf("%-12s %9s %11s %13s\n", "target", "<=0.200", "<=0.200", "<=0.250")
	}
	for _, r := range rs {
		if r.Distinct < o.Alerts {
			fmt.Printf("%s incomplete: %d of %d alerts delivered within %s of group_wait expiry\n",
				r.System, r.Distinct, o.Alerts, o.Timeout)
		}
	}

	fmt.Println()
	fmt.Printf("%-12s %13s %8s %13s %15s %15s %13s %9s %11s\n", "details", "busy-after-s", "rss-MiB", "ingest-cpu-s", "ingest-rss-MiB", "delivery-cpu-s", "sink-cpu-s", "webhooks", "duplicates")
	for _, r := range rs {
		busy := "-"
		if r.BusyAfter >= 0 {
			busy = fmt.Sprintf("%.2f", r.BusyAfter.Seconds())
		}
		fmt.Printf("%-12s %13s %8.1f %13.2f %15.1f %15.2f %13.2f %9d %11d\n",
			r.System, busy, r.RSS, r.IngestCPU, r.IngestRSS, r.DeliveryCPU, r.SinkCPU, r.Requests, r.Delivered-r.Distinct)
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
