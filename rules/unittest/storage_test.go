package unittest

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

func TestMemStorageAppend(t *testing.T) {
	h1 := &histogram.FloatHistogram{Count: 1, Sum: 1}
	tests := []struct {
		name    string
		t       int64
		f       float64
		fh      *histogram.FloatHistogram
		wantErr error // nil: accepted
		wantLen int
	}{
		{name: "later sample", t: 2000, f: 5, wantLen: 2},
		{name: "same time, same value: dropped", t: 1000, f: 1, wantLen: 1},
		{name: "same time, other value", t: 1000, f: 2, wantErr: storage.ErrDuplicateSampleForTimestamp, wantLen: 1},
		{name: "same time, stale marker", t: 1000, f: stale, wantErr: storage.ErrDuplicateSampleForTimestamp, wantLen: 1},
		{name: "same time, histogram", t: 1000, fh: h1, wantErr: storage.ErrDuplicateSampleForTimestamp, wantLen: 1},
		{name: "older sample", t: 500, f: 1, wantErr: storage.ErrOutOfOrderSample, wantLen: 1},
	}
	lset := labels.FromStrings("__name__", "x")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStorage()
			if err := s.append(lset, 1000, 1, nil); err != nil {
				t.Fatal(err)
			}
			err := s.append(lset, tt.t, tt.f, tt.fh)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("append: %v, want %v", err, tt.wantErr)
			}
			if n := len(s.get(lset).samples); n != tt.wantLen {
				t.Errorf("%d samples, want %d", n, tt.wantLen)
			}
		})
	}
}

func TestMemStorageSelect(t *testing.T) {
	s := newMemStorage()
	for _, l := range []labels.Labels{
		labels.FromStrings("__name__", "up", "job", "b"),
		labels.FromStrings("__name__", "up", "job", "a"),
		labels.FromStrings("__name__", "down", "job", "a"),
	} {
		for ts := int64(0); ts <= 4000; ts += 1000 {
			if err := s.append(l, ts, float64(ts), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		mint, maxt int64
		matchers   []*labels.Matcher
		want       []string // series: first-last sample time
	}{
		{"by name, sorted", 0, 4000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")},
			[]string{`{__name__="up", job="a"} 0-4000`, `{__name__="up", job="b"} 0-4000`}},
		{"by label over all names", 1000, 2500, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "a")},
			[]string{`{__name__="down", job="a"} 1000-2000`, `{__name__="up", job="a"} 1000-2000`}},
		{"regexp", 3000, 9000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", "d.*")},
			[]string{`{__name__="down", job="a"} 3000-4000`}},
		{"no sample in range", 5000, 9000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")}, nil},
		{"unknown name", 0, 9000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "none")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := s.Querier(tt.mint, tt.maxt)
			if err != nil {
				t.Fatal(err)
			}
			ss := q.Select(t.Context(), true, nil, tt.matchers...)
			var got []string
			var it chunkenc.Iterator
			for ss.Next() {
				series := ss.At()
				it = series.Iterator(it)
				var first, last int64 = -1, -1
				for it.Next() == chunkenc.ValFloat {
					ts, v := it.At()
					if float64(ts) != v {
						t.Errorf("sample (%d, %v)", ts, v)
					}
					if first < 0 {
						first = ts
					}
					last = ts
				}
				got = append(got, series.Labels().String()+" "+itoa(first)+"-"+itoa(last))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("series %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func itoa(i int64) string {
	if i < 0 {
		return "none"
	}
	return strconv.FormatInt(i, 10)
}

func TestMemIteratorSeek(t *testing.T) {
	s := newMemStorage()
	l := labels.FromStrings("__name__", "x")
	for ts := int64(0); ts < 10; ts++ {
		if err := s.append(l, ts*10, float64(ts), nil); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := s.Querier(math.MinInt64, math.MaxInt64)
	ss := q.Select(t.Context(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))
	if !ss.Next() {
		t.Fatal("no series")
	}
	it := ss.At().Iterator(nil)
	steps := []struct {
		seek  int64
		want  int64
		valid bool
	}{{25, 30, true}, {5, 30, true}, {30, 30, true}, {90, 90, true}, {91, 0, false}}
	for _, st := range steps {
		vt := it.Seek(st.seek)
		if (vt != chunkenc.ValNone) != st.valid {
			t.Fatalf("Seek(%d) = %v, want valid %v", st.seek, vt, st.valid)
		}
		if st.valid && it.AtT() != st.want {
			t.Errorf("Seek(%d) at %d, want %d", st.seek, it.AtT(), st.want)
		}
	}
}

func TestWithResetHint(t *testing.T) {
	h := func(count float64, hint histogram.CounterResetHint) *histogram.FloatHistogram {
		return &histogram.FloatHistogram{Count: count, Sum: count, CounterResetHint: hint,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []float64{count}}
	}
	tests := []struct {
		name     string
		fh, prev *histogram.FloatHistogram
		want     histogram.CounterResetHint
	}{
		{"first", h(1, histogram.UnknownCounterReset), nil, histogram.UnknownCounterReset},
		{"increase", h(2, histogram.UnknownCounterReset), h(1, histogram.UnknownCounterReset), histogram.NotCounterReset},
		{"decrease is a reset", h(1, histogram.UnknownCounterReset), h(2, histogram.UnknownCounterReset), histogram.CounterReset},
		{"declared reset", h(3, histogram.CounterReset), h(2, histogram.UnknownCounterReset), histogram.CounterReset},
		{"gauge stays gauge", h(1, histogram.GaugeType), h(2, histogram.GaugeType), histogram.GaugeType},
		{"after a gauge", h(1, histogram.UnknownCounterReset), h(2, histogram.GaugeType), histogram.UnknownCounterReset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withResetHint(tt.fh, tt.prev)
			if got.CounterResetHint != tt.want {
				t.Errorf("hint %v, want %v", got.CounterResetHint, tt.want)
			}
			if got == tt.fh {
				t.Error("the input histogram was not copied")
			}
		})
	}
}
