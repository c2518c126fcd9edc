package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
	"github.com/alertd/alertd/bench/internal/proc"
)

// report is the outcome of one run of the scenarios.
type report struct {
	Date    time.Time
	Machine machine
	Short   bool
	Evals   []evalResult
	Notify  *notifyResult
	E2E     *e2eResult
}

// evalResult is one evaluation scenario.
type evalResult struct {
	evalSpec
	// Alertd, VMAlert and Prometheus (its rule manager: the process with
	// the rules minus the one without) are measured one after the other.
	Alertd, VMAlert, Prometheus evalRow
}

// evalRow is one system's evaluation figures; NaN where they do not
// apply.
type evalRow struct {
	System string
	// CPU is CPU-seconds per minute; PeakRSS, MiB.
	CPU, PeakRSS float64
	// Stats are the rule groups' figures from the system's /metrics; nil
	// where it has none.
	Stats *groupStats
	// DatasourceCPU is the CPU-seconds per minute the queried Prometheus
	// used in the same window, answering the system's queries; NaN for
	// Prometheus's rule manager, whose queries are its own CPU.
	DatasourceCPU float64
	// Notifier is what the Alertmanager the system sends to used.
	Notifier *proc.Usage
	// Note explains a derived figure.
	Note string
	// Failure, if set, is why there are no figures: a check failed or the
	// system could not be run.
	Failure string
}

// notifyResult is the notification scenario.
type notifyResult struct {
	Options              alertload.Options
	Alertmanager, Alertd notifyRow
}

// notifyRow is one system's notification figures.
type notifyRow struct {
	System  string
	Result  *alertload.Result
	Failure string
}

// Throughput is alerts ingested per second.
func (r notifyRow) Throughput(alerts int) float64 {
	if r.Result == nil || r.Result.Ingest <= 0 {
		return math.NaN()
	}
	return float64(alerts) / r.Result.Ingest.Seconds()
}

// e2eResult is the end-to-end scenario.
type e2eResult struct {
	Options      e2eOptions
	Alertd, Peer e2eRow
}

// e2eRow is one system's end-to-end latencies, one per repeat.
type e2eRow struct {
	System    string
	Latencies []time.Duration
	Failure   string
}

// Median is the median latency.
func (r e2eRow) Median() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Max is the largest latency.
func (r e2eRow) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return slices.Max(r.Latencies)
}

// target is one of the targets: the ratio alertd / peer of a
// figure, compared with a bound.
type target struct {
	What string
	// Alertd and Peer are the figures, in Unit.
	Alertd, Peer float64
	Unit         string
	// AtMost: the ratio must be ≤ Bound; else ≥ Bound.
	AtMost bool
	Bound  float64
	// Failure, if set, is why the figures are missing.
	Failure string
}

// Ratio is alertd / peer; NaN when it cannot be computed.
func (t target) Ratio() float64 {
	if t.Failure != "" || !(t.Peer > 0) || math.IsNaN(t.Alertd) || math.IsInf(t.Peer, 0) {
		return math.NaN()
	}
	return t.Alertd / t.Peer
}

// Status is "met", "missed" or "not measured".
func (t target) Status() string {
	r := t.Ratio()
	switch {
	case math.IsNaN(r):
		return "not measured"
	case t.AtMost && r <= t.Bound, !t.AtMost && r >= t.Bound:
		return "met"
	}
	return "missed"
}

func (t target) wanted() string {
	if t.AtMost {
		return "≤ " + trimFloat(t.Bound)
	}
	return "≥ " + trimFloat(t.Bound)
}

// failed names the systems among rows that failed, for a target that
// compares them.
func failed(rows ...[2]string) string {
	var out []string
	for _, r := range rows {
		if r[1] != "" {
			out = append(out, r[0]+" failed")
		}
	}
	return strings.Join(out, ", ")
}

// Targets lists the targets for the scenarios that ran.
func (r *report) Targets() []target {
	var ts []target
	for _, e := range r.Evals {
		size := fmt.Sprintf("%s rules × %s", thousands(e.Load.Rules), thousands(e.Load.Series))
		ts = append(ts,
			target{
				What:   "evaluation CPU, " + size + ": alertd / vmalert",
				Alertd: e.Alertd.CPU, Peer: e.VMAlert.CPU, Unit: "CPU-s/min", AtMost: true, Bound: 0.2,
				Failure: failed([2]string{"alertd", e.Alertd.Failure}, [2]string{"vmalert", e.VMAlert.Failure}),
			},
			target{
				What:   "evaluation CPU, " + size + ": alertd / Prometheus's rule manager",
				Alertd: e.Alertd.CPU, Peer: e.Prometheus.CPU, Unit: "CPU-s/min", AtMost: true, Bound: 1,
				Failure: failed([2]string{"alertd", e.Alertd.Failure}, [2]string{"Prometheus", e.Prometheus.Failure}),
			})
	}
	if n := r.Notify; n != nil {
		alerts := n.Options.Alerts
		fail := failed([2]string{"alertd", n.Alertd.Failure}, [2]string{"Alertmanager", n.Alertmanager.Failure})
		var adDel, amDel, adRSS, amRSS = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if a, m := n.Alertd.Result, n.Alertmanager.Result; a != nil && m != nil {
			adDel, amDel, adRSS, amRSS = a.Delivery.Seconds(), m.Delivery.Seconds(), a.PeakRSS, m.PeakRSS
		}
		ts = append(ts,
			target{
				What:   "ingest throughput, " + thousands(alerts) + " alerts: alertd / Alertmanager",
				Alertd: n.Alertd.Throughput(alerts), Peer: n.Alertmanager.Throughput(alerts), Unit: "alerts/s", Bound: 5,
				Failure: fail,
			},
			target{
				What:   "flush to last delivery: alertd / Alertmanager",
				Alertd: adDel, Peer: amDel, Unit: "s", AtMost: true, Bound: 0.2, Failure: fail,
			},
			target{
				What:   "peak RSS at " + thousands(alerts) + " alerts: alertd / Alertmanager",
				Alertd: adRSS, Peer: amRSS, Unit: "MiB", AtMost: true, Bound: 0.25, Failure: fail,
			})
	}
	if e := r.E2E; e != nil {
		ts = append(ts, target{
			What:   "end-to-end latency (median): alertd / Prometheus + Alertmanager",
			Alertd: e.Alertd.Median().Seconds(), Peer: e.Peer.Median().Seconds(), Unit: "s", AtMost: true, Bound: 1,
			Failure: failed([2]string{"alertd", e.Alertd.Failure}, [2]string{"Prometheus + Alertmanager", e.Peer.Failure}),
		})
	}
	return ts
}

// Failed reports whether a check failed or a system could not be run.
func (r *report) Failed() bool {
	for _, e := range r.Evals {
		if e.Alertd.Failure != "" || e.VMAlert.Failure != "" || e.Prometheus.Failure != "" {
			return true
		}
	}
	if n := r.Notify; n != nil && (n.Alertd.Failure != "" || n.Alertmanager.Failure != "") {
		return true
	}
	if e := r.E2E; e != nil && (e.Alertd.Failure != "" || e.Peer.Failure != "") {
		return true
	}
	return false
}

// Markdown renders the report: what goes between the markers of
// docs/benchmarks.md.
func (r *report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Run on %s: %d cores (%s), Linux %s, %s, load average %s at the start; alertd %s.\n",
		r.Date.UTC().Format("2006-01-02 15:04 MST"), m.CPUs, m.CPUModel, m.Kernel, m.GoVersion, m.Load, m.Commit)
	var peers []string
	for _, p := range m.Peers {
		peers = append(peers, fmt.Sprintf("%s %s (Debian %s)", p.Name, p.Version, p.Package))
	}
	if len(peers) > 0 {
		fmt.Fprintf(&b, "Peers: %s.\n", strings.Join(peers, ", "))
	}
	if r.Short {
		b.WriteString("\n**Short mode** (`-short`): smaller loads, shorter windows, fewer repeats; a quick check, not the figures to quote.\n")
	}

	b.WriteString("\n### Targets\n\n")
	b.WriteString("alertd / peer below 1: alertd uses less CPU, memory or time than the peer; for ingest throughput, above 1: alertd takes more alerts per second. FAILED below: the system did not produce exactly the expected alerts or notifications, so its figures are not shown.\n\n")
	b.WriteString("| target | alertd | peer | alertd / peer | wanted | |\n|---|---|---|---|---|---|\n")
	for _, t := range r.Targets() {
		if t.Failure != "" {
			fmt.Fprintf(&b, "| %s | – | – | – | %s | not measured (%s) |\n", t.What, t.wanted(), cell(t.Failure))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s %s | %s | %s | %s |\n", t.What,
			num(t.Alertd), t.Unit, num(t.Peer), t.Unit, ratio(t.Ratio()), t.wanted(), t.Status())
	}

	for _, e := range r.Evals {
		r.evalMarkdown(&b, e)
	}
	if r.Notify != nil {
		notifyMarkdown(&b, *r.Notify)
	}
	if r.E2E != nil {
		e2eMarkdown(&b, *r.E2E)
	}
	return b.String()
}

func (r *report) evalMarkdown(b *strings.Builder, e evalResult) {
	l := e.Load
	fmt.Fprintf(b, "\n### Evaluation: %s rules × %s series (%s alerts), %s interval\n\n",
		thousands(l.Rules), thousands(l.Series), thousands(l.Alerts()), alertload.PromDuration(l.Interval))
	fmt.Fprintf(b, "%s groups, the queried Prometheus scraping every %s; each system alone, %s of warm-up then %s measured.\n\n",
		thousands(l.Groups), alertload.PromDuration(e.Scrape), alertload.PromDuration(e.Warmup), alertload.PromDuration(e.Window))
	b.WriteString("| system | CPU-s per minute | peak RSS MiB | evaluation of a group, median / max | missed / iterations | queried Prometheus CPU-s per minute | its Alertmanager CPU-s per minute, peak RSS MiB |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, row := range []evalRow{e.Alertd, e.VMAlert, e.Prometheus} {
		if row.Failure != "" {
			fmt.Fprintf(b, "| %s | FAILED: %s | | | | | |\n", row.System, cell(row.Failure))
			continue
		}
		groups, missed := "–", "–"
		if s := row.Stats; s != nil && s.Mean > 0 {
			groups = fmt.Sprintf("mean %s / %s ms (%d evaluations; its summaries)", ms(s.Mean), ms(s.Max), s.Evaluations)
			missed = fmt.Sprintf("%s / %s", count(s.Missed), count(s.Iterations))
		} else if s != nil {
			groups = fmt.Sprintf("%s / %s ms (%d evaluations)", ms(s.Median), ms(s.Max), s.Evaluations)
			missed = fmt.Sprintf("%s / %s", count(s.Missed), count(s.Iterations))
		}
		notifier := "–"
		if n := row.Notifier; n != nil {
			notifier = fmt.Sprintf("%s, %s", num(n.PerMinute()), num(n.PeakRSS))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", row.System, num(row.CPU), num(row.PeakRSS), groups, missed, num(row.DatasourceCPU), notifier)
	}
	for _, row := range []evalRow{e.Alertd, e.VMAlert, e.Prometheus} {
		if row.Note != "" && row.Failure == "" {
			fmt.Fprintf(b, "\n%s\n", row.Note)
		}
	}
}

func notifyMarkdown(b *strings.Builder, n notifyResult) {
	o := n.Options
	fmt.Fprintf(b, "\n### Notification: %s alerts in %s groups\n\n", thousands(o.Alerts), thousands(o.Groups))
	fmt.Fprintf(b, "POSTed in batches of %s to /api/v2/alerts, `group_by: [group]`, `group_wait: %s`, one webhook receiver served by the harness; Alertmanager first, then alertd.\n\n",
		thousands(o.Batch), alertload.PromDuration(o.GroupWait))
	b.WriteString("| system | ingest alerts/s | ingest s | flush to last delivery s | peak RSS MiB | CPU s | delivered: distinct / received (webhooks) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, row := range []notifyRow{n.Alertmanager, n.Alertd} {
		if row.Failure != "" {
			fmt.Fprintf(b, "| %s | FAILED: %s | | | | | |\n", row.System, cell(row.Failure))
			continue
		}
		res := row.Result
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s / %s (%s) |\n", row.System, num(row.Throughput(o.Alerts)),
			fixed(res.Ingest.Seconds(), 3), fixed(res.Delivery.Seconds(), 3), num(res.PeakRSS), num(res.CPU),
			thousands(res.Distinct), thousands(res.Delivered), thousands(res.Requests))
	}
}

func e2eMarkdown(b *strings.Builder, e e2eResult) {
	o := e.Options
	fmt.Fprintf(b, "\n### End to end: a scraped value changes → the webhook receives the notification\n\n")
	fmt.Fprintf(b, "Scrape interval %s, evaluation interval %s, `for: %s`, `group_wait: %s`; %d repeats, both systems at once on the same Prometheus's data, each repeat's rule in a group of its own (so at another point of the interval). Latency: from the change in the target to the webhook request.\n\n",
		alertload.PromDuration(o.Scrape), alertload.PromDuration(o.Eval), alertload.PromDuration(o.For), alertload.PromDuration(o.GroupWait), o.Repeats)
	b.WriteString("| system | median s | max s | each repeat s |\n|---|---|---|---|\n")
	for _, row := range []e2eRow{e.Alertd, e.Peer} {
		if row.Failure != "" {
			fmt.Fprintf(b, "| %s | FAILED: %s | | |\n", row.System, cell(row.Failure))
			continue
		}
		each := make([]string, len(row.Latencies))
		for i, l := range row.Latencies {
			each[i] = fixed(l.Seconds(), 2)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", row.System, fixed(row.Median().Seconds(), 2), fixed(row.Max().Seconds(), 2), strings.Join(each, ", "))
	}
}

// num formats a figure with three significant digits at most, and – for
// NaN.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a >= 100:
		return thousands(int(math.Round(v)))
	case a >= 10:
		return fixed(v, 1)
	case a >= 1:
		return fixed(v, 2)
	case a == 0:
		return "0"
	}
	return fixed(v, 3)
}

// count formats a counter's growth, a whole number.
func count(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return thousands(int(math.Round(v)))
}

// ratio formats alertd / peer.
func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v >= 10 {
		return fixed(v, 1)
	}
	return fixed(v, 3)
}

func fixed(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func ms(d time.Duration) string { return num(float64(d) / float64(time.Millisecond)) }

// thousands formats n with commas: 100000 → 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// cell makes text safe in a table cell: one line, no pipes, bounded.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	const maxLen = 300
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return s
}
