package unittest

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// seriesParser reads input_series with the options promtool's loader
// (promqltest) parses series with.
var seriesParser = parser.NewParser(parser.Options{
	EnableExperimentalFunctions: true,
	EnableBinopFillModifiers:    true,
	EnableUnquotedUTF8Names:     true,
})

// loadedSeries is one input series expanded into samples.
type loadedSeries struct {
	lset    labels.Labels
	samples []memSample
}

// seriesError is an input series that does not parse.
type seriesError struct {
	index int
	err   error
}

func (e *seriesError) Error() string { return e.err.Error() }

// expandSeries expands input series written in the promql series notation
// ("up{job="a"}" and "1+1x3 _ stale") into samples, the first at start and
// one per interval after it; "_" leaves a gap and "stale" is a staleness
// marker. A series given twice keeps the later values, as in promtool.
func expandSeries(in []inputSeries, start time.Time, interval time.Duration) ([]loadedSeries, error) {
	out := make([]loadedSeries, 0, len(in))
	index := make(map[uint64]int, len(in))
	for i, s := range in {
		// promtool joins the two fields into one line of a load command,
		// which trims it.
		lset, vals, err := seriesParser.ParseSeriesDesc(strings.TrimSpace(s.Series + " " + s.Values))
		if err != nil {
			return nil, &seriesError{index: i, err: fmt.Errorf("input_series %q %q: %w", s.Series, s.Values, err)}
		}
		ls := loadedSeries{lset: lset, samples: make([]memSample, 0, len(vals))}
		ts := start
		for _, v := range vals {
			if !v.Omitted {
				ls.samples = append(ls.samples, memSample{t: ts.UnixNano() / int64(time.Millisecond), f: v.Value, fh: v.Histogram})
			}
			ts = ts.Add(interval)
		}
		h := lset.Hash()
		if j, ok := index[h]; ok {
			out[j] = ls
			continue
		}
		index[h] = len(out)
		out = append(out, ls)
	}
	return out, nil
}
