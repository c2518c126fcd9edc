package datasource

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
)

// resultShape is what data.result looked like, independently of what
// data.resultType claimed (the keys may come in any order).
type resultShape int

const (
	shapeAbsent  resultShape = iota
	shapeNull                // null
	shapeSeries              // an array of objects, or an empty array
	shapePair                // [<time>, "<value>"]
	shapeSkipped             // not decoded: resultType was matrix or string
)

// response is a decoded /api/v1/query body, before any judgement of it.
type response struct {
	status    string // "success", "error", anything else, or "" if absent
	hasStatus bool
	errorType string
	errorMsg  string
	warnings  []string
	infos     []string

	hasData    bool
	resultType string
	hasType    bool
	shape      resultShape
	samples    Vector // float samples of a series-shaped result
	pairValue  string // raw value of a pair-shaped result

	// Series in a series-shaped result that had no float sample.
	histograms     int           // with a native histogram ("histogram")
	firstHistogram labels.Labels // labels of the first of those
	ranges         int           // with range data only ("values", "histograms")
	noValue        int           // with none of these
}

// decoder turns a response body into a response. Label names and values
// are unescaped into arena and handed to a ScratchBuilder without being
// turned into strings of their own, so each series costs one allocation
// (its labels) plus its share of the Vector.
type decoder struct {
	j       jsonReader
	key     []byte
	arena   []byte
	spans   []labelSpan
	value   []byte
	builder labels.ScratchBuilder
}

// labelSpan locates one label in decoder.arena: the name is
// arena[start:mid] and the value arena[mid:end].
type labelSpan struct{ start, mid, end int }

const (
	// readBufferSize is the size of the decoder's read buffer.
	readBufferSize = 16 << 10
	// scratchSize is the initial room for keys, values and one series'
	// labels; they grow past it if they must.
	scratchSize = 2 << 10
)

// decodeResponse decodes a query API response body. It returns a
// *syntaxError for malformed JSON, a *readError if reading r failed, and
// otherwise leaves all judgement of the content to response.vector.
func decodeResponse(r io.Reader) (*response, error) {
	// One allocation for the read buffer and the initial scratch space,
	// capped so that no slice can grow into another.
	mem := make([]byte, readBufferSize+headSize+scratchSize)
	s := mem[readBufferSize+headSize:]
	d := &decoder{
		key:     s[0:0:64],
		value:   s[64:64:128],
		arena:   s[192:192:scratchSize],
		spans:   make([]labelSpan, 0, 16),
		builder: labels.NewScratchBuilder(16),
	}
	d.j.reset(r, mem[:readBufferSize:readBufferSize])
	d.j.tmp = s[128:128:192]
	d.j.head = mem[readBufferSize : readBufferSize : readBufferSize+headSize]
	// Strings added to the builder point into d.arena; this makes every
	// labels implementation copy or intern them (see ScratchBuilder.Add).
	d.builder.SetUnsafeAdd(true)
	resp := &response{}
	err := d.envelope(resp)
	if err == nil {
		err = d.j.finish()
	}
	if se, ok := errors.AsType[*syntaxError](err); ok {
		se.head = d.j.head
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// envelope decodes the top-level object.
func (d *decoder) envelope(resp *response) error {
	more, err := d.j.open('{', '}')
	for more && err == nil {
		if d.key, err = d.j.key(d.key[:0]); err != nil {
			return err
		}
		switch string(d.key) {
		case "status":
			resp.hasStatus = true
			resp.status, err = d.stringOrNull("status")
		case "errorType":
			resp.errorType, err = d.stringOrNull("errorType")
		case "error":
			resp.errorMsg, err = d.stringOrNull("error")
		case "warnings":
			resp.warnings, err = d.stringList(resp.warnings, "warnings")
		case "infos":
			resp.infos, err = d.stringList(resp.infos, "infos")
		case "data":
			err = d.data(resp)
		default:
			err = d.j.skip()
		}
		if err != nil {
			return err
		}
		more, err = d.j.more('}')
	}
	return err
}

// data decodes the "data" object.
func (d *decoder) data(resp *response) error {
	if isNull, err := d.j.readNull(); isNull || err != nil {
		return err
	}
	resp.hasData = true
	more, err := d.j.open('{', '}')
	for more && err == nil {
		if d.key, err = d.j.key(d.key[:0]); err != nil {
			return err
		}
		switch string(d.key) {
		case "resultType":
			resp.hasType = true
			resp.resultType, err = d.stringOrNull("data.resultType")
		case "result":
			err = d.result(resp)
		default:
			err = d.j.skip()
		}
		if err != nil {
			return err
		}
		more, err = d.j.more('}')
	}
	return err
}

// result decodes data.result by its shape.
func (d *decoder) result(resp *response) error {
	// A repeated "result" key replaces the earlier one, as in encoding/json.
	resp.samples, resp.pairValue = resp.samples[:0], ""
	resp.histograms, resp.firstHistogram, resp.ranges, resp.noValue = 0, labels.EmptyLabels(), 0, 0
	if resp.hasType && (resp.resultType == "matrix" || resp.resultType == "string") {
		resp.shape = shapeSkipped // an error whatever it holds; do not bother
		return d.j.skip()
	}
	if isNull, err := d.j.readNull(); isNull || err != nil {
		resp.shape = shapeNull
		return err
	}
	c, err := d.j.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return d.j.syntaxErr("invalid character %s at start of data.result, expected '['", quoteChar(c))
	}
	more, err := d.j.open('[', ']')
	if err != nil {
		return err
	}
	resp.shape = shapeSeries
	if !more {
		return nil
	}
	if c, err = d.j.peek(); err != nil {
		return err
	}
	if c != '{' {
		resp.shape = shapePair
		return d.pair(resp)
	}
	for more && err == nil {
		if err = d.series(resp); err != nil {
			return err
		}
		more, err = d.j.more(']')
	}
	return err
}

// pair decodes the rest of a scalar or string result, [<time>, "<value>"],
// after its opening bracket.
func (d *decoder) pair(resp *response) error {
	if _, err := d.j.readNumber(); err != nil {
		return err
	}
	if err := d.j.expect(','); err != nil {
		return err
	}
	var err error
	if d.value, err = d.j.readString(d.value[:0]); err != nil {
		return err
	}
	resp.pairValue = string(d.value)
	return d.j.expect(']')
}

// series decodes one element of a vector (or matrix) result and appends
// its sample, if it has a float one, to resp.samples.
func (d *decoder) series(resp *response) error {
	d.arena, d.spans = d.arena[:0], d.spans[:0]
	var (
		value                       float64
		hasValue, hasHist, hasRange bool
	)
	more, err := d.j.open('{', '}')
	for more && err == nil {
		if d.key, err = d.j.key(d.key[:0]); err != nil {
			return err
		}
		switch string(d.key) {
		case "metric":
			err = d.metric()
		case "value":
			hasValue = true
			value, err = d.sampleValue()
		case "histogram":
			hasHist = true
			err = d.j.skip()
		case "values", "histograms":
			hasRange = true
			err = d.j.skip()
		default:
			err = d.j.skip()
		}
		if err != nil {
			return err
		}
		more, err = d.j.more('}')
	}
	if err != nil {
		return err
	}
	if !hasValue {
		switch {
		case hasHist:
			if resp.histograms == 0 {
				resp.firstHistogram, err = d.labels()
			}
			resp.histograms++
		case hasRange:
			resp.ranges++
		default:
			resp.noValue++
		}
		return err
	}
	lset, err := d.labels()
	if err != nil {
		return err
	}
	resp.samples = append(resp.samples, Sample{Metric: lset, Value: value})
	return nil
}

// metric decodes a series' label object into d.arena and d.spans.
func (d *decoder) metric() error {
	if isNull, err := d.j.readNull(); isNull || err != nil {
		return err
	}
	more, err := d.j.open('{', '}')
	for more && err == nil {
		start := len(d.arena)
		if d.arena, err = d.j.key(d.arena); err != nil {
			return err
		}
		mid := len(d.arena)
		if d.arena, err = d.j.readString(d.arena); err != nil {
			return err
		}
		if len(d.arena) > mid { // an empty value is the same as no label
			d.spans = append(d.spans, labelSpan{start: start, mid: mid, end: len(d.arena)})
		} else {
			d.arena = d.arena[:start]
		}
		more, err = d.j.more('}')
	}
	return err
}

// labels builds the sorted label set of the series just decoded.
func (d *decoder) labels() (labels.Labels, error) {
	d.builder.Reset()
	for _, s := range d.spans {
		d.builder.Add(unsafeString(d.arena[s.start:s.mid]), unsafeString(d.arena[s.mid:s.end]))
	}
	d.builder.Sort()
	lset := d.builder.Labels()
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return labels.EmptyLabels(), d.j.syntaxErr("duplicate label name %q in series", truncate(name, 64))
	}
	return lset, nil
}

// sampleValue decodes a sample, [<time>, "<value>"], and returns its value.
func (d *decoder) sampleValue() (float64, error) {
	if err := d.j.expect('['); err != nil {
		return 0, err
	}
	if _, err := d.j.readNumber(); err != nil {
		return 0, err
	}
	if err := d.j.expect(','); err != nil {
		return 0, err
	}
	start := d.j.offset()
	var err error
	if d.value, err = d.j.readString(d.value[:0]); err != nil {
		return 0, err
	}
	v, err := parseValue(d.value)
	if err != nil {
		return 0, &syntaxError{msg: err.Error(), offset: start}
	}
	return v, d.j.expect(']')
}

// parseValue parses a sample value as Prometheus formats it: a Go float,
// "NaN", "+Inf" or "-Inf".
func parseValue(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid sample value %q", truncate(string(b), 40))
	}
	return v, nil
}

// stringOrNull decodes a string or null (as "") for the named field.
func (d *decoder) stringOrNull(field string) (string, error) {
	if isNull, err := d.j.readNull(); isNull || err != nil {
		return "", err
	}
	c, err := d.j.peek()
	if err != nil {
		return "", err
	}
	if c != '"' {
		return "", d.j.syntaxErr("invalid character %s at start of %s, expected string", quoteChar(c), field)
	}
	d.value, err = d.j.readString(d.value[:0])
	switch string(d.value) { // avoid allocating for the common words
	case "success":
		return "success", err
	case "error":
		return "error", err
	case "vector":
		return "vector", err
	case "scalar":
		return "scalar", err
	}
	return string(d.value), err
}

// stringList decodes an array of strings, or null, appending to dst.
func (d *decoder) stringList(dst []string, field string) ([]string, error) {
	if isNull, err := d.j.readNull(); isNull || err != nil {
		return dst, err
	}
	more, err := d.j.open('[', ']')
	for more && err == nil {
		var s string
		if s, err = d.stringOrNull(field); err != nil {
			return dst, err
		}
		dst = append(dst, s)
		more, err = d.j.more(']')
	}
	return dst, err
}
