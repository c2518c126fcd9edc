package testenv

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Target is a scrape target whose series the caller controls. It serves
// them as gauges in the Prometheus text exposition format at /metrics,
// sorted by metric name and labels, with one "# TYPE name gauge" line per
// metric name. Its methods are safe for concurrent use.
//
// Series are written in PromQL notation, e.g. `up_probe{instance="a",job="x"}`
// or `bench_metric`. A Prometheus started with PrometheusOptions.ScrapeTargets
// keeps the job and instance labels a series carries (honor_labels).
type Target struct {
	// URL is the base URL of the server, http://127.0.0.1:PORT; the
	// metrics are at URL + "/metrics".
	URL string
	// HostPort is the server's address, for PrometheusOptions.ScrapeTargets.
	HostPort string

	parser  parser.Parser
	scrapes atomic.Int64

	mu     sync.Mutex
	series map[string]targetSample // by labels.Labels.String()

	closeOnce sync.Once
	closeErr  error
	close     func() error
}

type targetSample struct {
	lset  labels.Labels
	value float64
}

func newTarget() *Target {
	return &Target{
		parser: parser.NewParser(parser.Options{}),
		series: map[string]targetSample{},
	}
}

// NewTargetServer starts a Target listening on addr, e.g. "127.0.0.1:0",
// for programs that are not tests. Close stops it.
func NewTargetServer(addr string) (*Target, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	tg := newTarget()
	srv := &http.Server{Handler: tg, ReadHeaderTimeout: requestTimeout}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tg.URL = "http://" + ln.Addr().String()
	tg.HostPort = ln.Addr().String()
	tg.close = func() error {
		err := srv.Close()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	}
	return tg, nil
}

// NewTarget starts a Target on 127.0.0.1 (an httptest.Server) and closes it
// when the test ends.
func NewTarget(t testing.TB) *Target {
	t.Helper()
	tg := newTarget()
	srv := httptest.NewServer(tg)
	tg.URL = srv.URL
	tg.HostPort = srv.Listener.Addr().String()
	tg.close = func() error {
		srv.Close()
		return nil
	}
	t.Cleanup(func() {
		if err := tg.Close(); err != nil {
			t.Errorf("close target: %v", err)
		}
	})
	return tg
}

// Close stops the server. It is safe to call twice.
func (tg *Target) Close() error {
	tg.closeOnce.Do(func() { tg.closeErr = tg.close() })
	return tg.closeErr
}

// parse parses a series in PromQL notation. A malformed series is a bug in
// the calling test, so it panics, like regexp.MustCompile.
func (tg *Target) parse(series string) labels.Labels {
	lset, err := tg.parser.ParseMetric(series)
	if err != nil {
		panic(fmt.Sprintf("testenv: series %q: %v", series, err))
	}
	if lset.Get(model.MetricNameLabel) == "" {
		panic(fmt.Sprintf("testenv: series %q has no metric name", series))
	}
	return lset
}

// Set sets the value of a series, adding it if it is new. It panics if
// series is not a metric name with optional labels in PromQL notation.
func (tg *Target) Set(series string, v float64) {
	lset := tg.parse(series)
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.series[lset.String()] = targetSample{lset: lset, value: v}
}

// SetMany sets several series at once, so that no scrape sees only some of
// them. It panics like Set.
func (tg *Target) SetMany(values map[string]float64) {
	parsed := make([]targetSample, 0, len(values))
	for s, v := range values {
		parsed = append(parsed, targetSample{lset: tg.parse(s), value: v})
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, s := range parsed {
		tg.series[s.lset.String()] = s
	}
}

// Delete removes a series; Prometheus then marks it stale. Deleting a
// series that is not set does nothing. It panics like Set.
func (tg *Target) Delete(series string) {
	lset := tg.parse(series)
	tg.mu.Lock()
	defer tg.mu.Unlock()
	delete(tg.series, lset.String())
}

// Reset removes every series.
func (tg *Target) Reset() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	clear(tg.series)
}

// Scrapes returns how many times /metrics has been requested. Every scrape
// counted after Set (or Delete, SetMany, Reset) returned sees the change;
// Prometheus stores a scrape's samples shortly after it, so use
// Prometheus.WaitForScrape to wait for them to be queryable.
func (tg *Target) Scrapes() int64 { return tg.scrapes.Load() }

// ServeHTTP serves /metrics; any other path is not found.
func (tg *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tg.scrapes.Add(1)
	var buf bytes.Buffer
	if err := tg.write(&buf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	_, _ = w.Write(buf.Bytes())
}

// write renders the exposition of the current series.
func (tg *Target) write(buf *bytes.Buffer) error {
	tg.mu.Lock()
	samples := make([]targetSample, 0, len(tg.series))
	for _, s := range tg.series {
		samples = append(samples, s)
	}
	tg.mu.Unlock()

	slices.SortFunc(samples, func(a, b targetSample) int {
		return cmp.Or(
			cmp.Compare(a.lset.Get(model.MetricNameLabel), b.lset.Get(model.MetricNameLabel)),
			labels.Compare(a.lset, b.lset),
		)
	})
	var mf *dto.MetricFamily
	flush := func() error {
		if mf == nil {
			return nil
		}
		_, err := expfmt.MetricFamilyToText(buf, mf)
		return err
	}
	for _, s := range samples {
		name := s.lset.Get(model.MetricNameLabel)
		if mf == nil || mf.GetName() != name {
			if err := flush(); err != nil {
				return err
			}
			mf = &dto.MetricFamily{Name: new(name), Type: new(dto.MetricType_GAUGE)}
		}
		m := &dto.Metric{Gauge: &dto.Gauge{Value: new(s.value)}}
		s.lset.Range(func(l labels.Label) {
			if l.Name != model.MetricNameLabel {
				m.Label = append(m.Label, &dto.LabelPair{Name: new(l.Name), Value: new(l.Value)})
			}
		})
		mf.Metric = append(mf.Metric, m)
	}
	return flush()
}

// compile-time check that a Target can be mounted on any mux.
var _ http.Handler = (*Target)(nil)
