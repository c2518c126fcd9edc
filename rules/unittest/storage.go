package unittest

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// memSample is a float sample, or a float histogram sample when fh is set.
type memSample struct {
	t  int64
	f  float64
	fh *histogram.FloatHistogram
}

type memSeries struct {
	lset    labels.Labels
	samples []memSample // by time, no two at the same time
}

// memStorage is the in-memory storage a test group's series, recorded
// series and ALERTS live in. It accepts appends as Prometheus's TSDB head
// does with out-of-order ingestion off (promtool tests on a TSDB), and
// answers the PromQL engine's selects.
type memStorage struct {
	mu     sync.RWMutex
	series map[uint64][]*memSeries // by label hash; a slice for collisions
	byName map[string][]*memSeries
}

var _ storage.Queryable = (*memStorage)(nil)

func newMemStorage() *memStorage {
	return &memStorage{series: map[uint64][]*memSeries{}, byName: map[string][]*memSeries{}}
}

// append adds one sample to the series lset. As in the TSDB head: a sample
// older than the series' last one is out of order; one at the same time is
// dropped if it is the same value and a duplicate-sample error otherwise.
// (The head also refuses samples more than half a block, 12h, behind its
// newest; tests append in time order, so that never happens here.)
func (s *memStorage) append(lset labels.Labels, t int64, f float64, fh *histogram.FloatHistogram) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.get(lset)
	var prev *histogram.FloatHistogram
	if ms != nil && len(ms.samples) > 0 {
		last := ms.samples[len(ms.samples)-1]
		switch {
		case t < last.t:
			return storage.ErrOutOfOrderSample
		case t == last.t:
			switch {
			case fh == nil && last.fh == nil:
				if math.Float64bits(f) == math.Float64bits(last.f) {
					return nil
				}
				return storage.NewDuplicateFloatErr(t, last.f, f)
			case fh == nil:
				return storage.NewDuplicateHistogramToFloatErr(t, f)
			case last.fh != nil && fh.Equals(last.fh):
				return nil
			}
			return storage.ErrDuplicateSampleForTimestamp
		}
		prev = last.fh
	}
	if ms == nil {
		ms = &memSeries{lset: lset}
		h := lset.Hash()
		s.series[h] = append(s.series[h], ms)
		name := lset.Get(model.MetricNameLabel)
		s.byName[name] = append(s.byName[name], ms)
	}
	if fh != nil {
		fh = withResetHint(fh, prev)
	}
	ms.samples = append(ms.samples, memSample{t: t, f: f, fh: fh})
	return nil
}

// withResetHint returns a copy of fh with the counter-reset hint a TSDB
// chunk gives it when read back: gauge histograms stay gauges; a counter
// histogram is a reset when declared one or when it went down since prev,
// unknown when there is no previous histogram, and not a reset otherwise.
func withResetHint(fh, prev *histogram.FloatHistogram) *histogram.FloatHistogram {
	c := fh.Copy()
	switch {
	case fh.CounterResetHint == histogram.GaugeType:
	case fh.CounterResetHint == histogram.CounterReset:
	case prev == nil || prev.CounterResetHint == histogram.GaugeType:
		c.CounterResetHint = histogram.UnknownCounterReset
	case fh.DetectReset(prev):
		c.CounterResetHint = histogram.CounterReset
	default:
		c.CounterResetHint = histogram.NotCounterReset
	}
	return c
}

func (s *memStorage) get(lset labels.Labels) *memSeries {
	for _, ms := range s.series[lset.Hash()] {
		if labels.Equal(ms.lset, lset) {
			return ms
		}
	}
	return nil
}

// Querier returns a querier for samples in [mint, maxt].
func (s *memStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return &memQuerier{s: s, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	s          *memStorage
	mint, maxt int64
}

// matching returns the series that match all of ms with samples in
// [mint, maxt], cut to that range, sorted by labels.
func (q *memQuerier) matching(mint, maxt int64, ms []*labels.Matcher) []*memSeries {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	var candidates []*memSeries
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			candidates = q.s.byName[m.Value]
			break
		}
	}
	if candidates == nil {
		for _, ss := range q.s.series {
			candidates = append(candidates, ss...)
		}
	}
	var out []*memSeries
	for _, c := range candidates {
		if !matches(c.lset, ms) {
			continue
		}
		lo := sort.Search(len(c.samples), func(i int) bool { return c.samples[i].t >= mint })
		hi := sort.Search(len(c.samples), func(i int) bool { return c.samples[i].t > maxt })
		if lo >= hi {
			continue
		}
		out = append(out, &memSeries{lset: c.lset, samples: c.samples[lo:hi:hi]})
	}
	slices.SortFunc(out, func(a, b *memSeries) int { return labels.Compare(a.lset, b.lset) })
	return out
}

func matches(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Select returns the matching series; the time range is that of hints when
// given, as in the TSDB.
func (q *memQuerier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
	return &memSeriesSet{series: q.matching(mint, maxt, ms), i: -1}
}

// LabelValues returns the sorted values of label name in matching series.
func (q *memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		if v := s.lset.Get(name); v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil, nil
}

// LabelNames returns the sorted label names of matching series.
func (q *memQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		s.lset.Range(func(l labels.Label) { out = append(out, l.Name) })
	}
	slices.Sort(out)
	return slices.Compact(out), nil, nil
}

// Close releases nothing.
func (*memQuerier) Close() error { return nil }

type memSeriesSet struct {
	series []*memSeries
	i      int
}

func (ss *memSeriesSet) Next() bool {
	ss.i++
	return ss.i < len(ss.series)
}

func (ss *memSeriesSet) At() storage.Series { return (*memSeriesView)(ss.series[ss.i]) }

func (*memSeriesSet) Err() error { return nil }

func (*memSeriesSet) Warnings() annotations.Annotations { return nil }

// memSeriesView is a memSeries as a storage.Series.
type memSeriesView memSeries

func (s *memSeriesView) Labels() labels.Labels { return s.lset }

func (s *memSeriesView) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIteratorWithCopy(memSamples(s.samples))
}

// memSamples are samples as storage's list iterator takes them.
type memSamples []memSample

func (ss memSamples) Get(i int) chunks.Sample { return &ss[i] }
func (ss memSamples) Len() int                { return len(ss) }

// The chunks.Sample methods. Histograms are handed out as copies, since
// the engine may modify what it is given.
func (s *memSample) T() int64              { return s.t }
func (*memSample) ST() int64               { return 0 }
func (s *memSample) F() float64            { return s.f }
func (*memSample) H() *histogram.Histogram { return nil } // only float histograms are stored
func (s *memSample) FH() *histogram.FloatHistogram {
	if s.fh == nil {
		return nil
	}
	return s.fh.Copy()
}

func (s *memSample) Type() chunkenc.ValueType {
	if s.fh != nil {
		return chunkenc.ValFloatHistogram
	}
	return chunkenc.ValFloat
}

func (s *memSample) Copy() chunks.Sample {
	c := *s
	if s.fh != nil {
		c.fh = s.fh.Copy()
	}
	return &c
}
