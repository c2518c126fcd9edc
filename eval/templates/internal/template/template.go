// Copyright The Prometheus Authors
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
//
// Modified for alertd: the function map is rebound per execution (see doc.go).

package template

import (
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"math"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/grafana/regexp"
	commontemplates "github.com/prometheus/common/helpers/templates"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/util/strutil"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"github.com/alertd/alertd/eval/datasource"
)

// ErrNoQueryFunc is returned by the query function when the execution has
// no query function.
var ErrNoQueryFunc = errors.New("no query function configured")

var errNaNOrInf = errors.New("value is NaN or Inf")

// A version of vector that's easier to use from templates.
type sample struct {
	Labels map[string]string
	Value  any
}
type queryResult []*sample

type queryResultByLabelSorter struct {
	results queryResult
	by      string
}

func (q queryResultByLabelSorter) Len() int {
	return len(q.results)
}

func (q queryResultByLabelSorter) Less(i, j int) bool {
	return q.results[i].Labels[q.by] < q.results[j].Labels[q.by]
}

func (q queryResultByLabelSorter) Swap(i, j int) {
	q.results[i], q.results[j] = q.results[j], q.results[i]
}

// Env is what the query, now, pathPrefix and externalURL functions see.
type Env struct {
	// Ctx is passed to Query; nil means context.Background().
	Ctx context.Context
	// TS is the evaluation time, used at millisecond precision as
	// Prometheus does.
	TS time.Time
	// Query runs template queries; nil makes query return ErrNoQueryFunc.
	Query datasource.QueryFunc
	// ExternalURL is Prometheus's --web.external-url.
	ExternalURL string
}

// Binding holds the Env of the execution in progress. The function map
// built by FuncMap reads it, so one Binding must serve one execution at a
// time.
type Binding struct {
	env Env
}

// Set makes env the Env that the bound functions see.
func (b *Binding) Set(env Env) { b.env = env }

// Millis is Prometheus's timestamp.FromTime: ts in milliseconds since the
// epoch, rounded down.
func Millis(ts time.Time) int64 {
	return ts.Unix()*1000 + int64(ts.Nanosecond())/int64(time.Millisecond)
}

func (b *Binding) query(q string) (queryResult, error) {
	env := b.env
	if env.Query == nil {
		return nil, ErrNoQueryFunc
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	vector, err := env.Query(ctx, q, time.UnixMilli(Millis(env.TS)))
	if err != nil {
		return nil, err
	}
	result := make(queryResult, len(vector))
	for n, v := range vector {
		result[n] = &sample{
			Value:  v.Value,
			Labels: v.Metric.Map(),
		}
	}
	return result, nil
}

// externalURL parses the external URL; Prometheus validates it at start-up,
// so a malformed one is not expected.
func (b *Binding) externalURL() (*url.URL, bool) {
	u, err := url.Parse(b.env.ExternalURL)
	return u, err == nil
}

// FuncMap returns Prometheus's template functions, with the env-dependent
// ones reading b. The signatures are Prometheus's, so that text/template's
// argument errors read the same.
func FuncMap(b *Binding) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"query": b.query,
		"first": func(v queryResult) (*sample, error) {
			if len(v) > 0 {
				return v[0], nil
			}
			return nil, errors.New("first() called on vector with no elements")
		},
		"label": func(label string, s *sample) string {
			return s.Labels[label]
		},
		"value": func(s *sample) any {
			return s.Value
		},
		"strvalue": func(s *sample) string {
			return s.Labels["__value__"]
		},
		"args": func(args ...any) map[string]any {
			result := make(map[string]any)
			for i, a := range args {
				result[fmt.Sprintf("arg%d", i)] = a
			}
			return result
		},
		"reReplaceAll": func(pattern, repl, text string) string {
			re := regexp.MustCompile(pattern)
			return re.ReplaceAllString(text, repl)
		},
		"safeHtml": func(text string) htmltemplate.HTML {
			return htmltemplate.HTML(text)
		},
		"match": regexp.MatchString,
		// A cases.Caser is stateful: a fresh one per call keeps the
		// function safe for concurrent executions.
		"title":     Title,
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"graphLink": strutil.GraphLinkForExpression,
		"tableLink": strutil.TableLinkForExpression,
		"sortByLabel": func(label string, v queryResult) queryResult {
			sorter := queryResultByLabelSorter{v[:], label}
			sort.Stable(sorter)
			return v
		},
		"stripPort":          StripPort,
		"stripDomain":        StripDomain,
		"humanize":           Humanize,
		"humanize1024":       Humanize1024,
		"humanizeDuration":   commontemplates.HumanizeDuration,
		"humanizePercentage": HumanizePercentage,
		"humanizeTimestamp":  commontemplates.HumanizeTimestamp,
		"toTime": func(i any) (*time.Time, error) {
			v, err := commontemplates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}

			return floatToTime(v)
		},
		"toDuration": func(i any) (*time.Duration, error) {
			v, err := commontemplates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}
			d := time.Duration(v * float64(time.Second))
			return &d, nil
		},
		"now": func() float64 {
			return float64(Millis(b.env.TS)) / 1000.0
		},
		"pathPrefix": func() string {
			u, ok := b.externalURL()
			if !ok {
				return ""
			}
			return u.Path
		},
		"externalURL": func() string {
			u, ok := b.externalURL()
			if !ok {
				return b.env.ExternalURL
			}
			return u.String()
		},
		"parseDuration": func(d string) (float64, error) {
			v, err := model.ParseDurationAllowNegative(d)
			if err != nil {
				return 0, err
			}
			return float64(time.Duration(v)) / float64(time.Second), nil
		},
		"urlQueryEscape": url.QueryEscape,
	}
}

// IsEnvFunc reports whether the function name's result depends on the Env.
func IsEnvFunc(name string) bool {
	switch name {
	case "query", "now", "pathPrefix", "externalURL":
		return true
	}
	return false
}

// Data returns the template data of one alert, of the same type as
// Prometheus's template.AlertTemplateData.
func Data(labels, externalLabels map[string]string, externalURL string, value float64) any {
	return struct {
		Labels         map[string]string
		ExternalLabels map[string]string
		ExternalURL    string
		Value          any
	}{
		Labels:         labels,
		ExternalLabels: externalLabels,
		ExternalURL:    externalURL,
		Value:          value,
	}
}

// Title is Prometheus's title function.
func Title(s string) string {
	return cases.Title(language.AmericanEnglish, cases.NoLower).String(s)
}

// StripPort is Prometheus's stripPort function.
func StripPort(hostPort string) string {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return hostPort
	}
	return host
}

// StripDomain is Prometheus's stripDomain function.
func StripDomain(hostPort string) string {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return hostPort
	}
	host = strings.Split(host, ".")[0]
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	return host
}

// Humanize is Prometheus's humanize function.
func Humanize(i any) (string, error) {
	v, err := commontemplates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	if math.Abs(v) >= 1 {
		prefix := ""
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix = p
			v /= 1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix), nil
	}
	prefix := ""
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}

// Humanize1024 is Prometheus's humanize1024 function.
func Humanize1024(i any) (string, error) {
	v, err := commontemplates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	prefix := ""
	for _, p := range []string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"} {
		if math.Abs(v) < 1024 {
			break
		}
		prefix = p
		v /= 1024
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}

// HumanizePercentage is Prometheus's humanizePercentage function.
func HumanizePercentage(i any) (string, error) {
	v, err := commontemplates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%.4g%%", v*100), nil
}

func floatToTime(v float64) (*time.Time, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, errNaNOrInf
	}
	timestamp := v * 1e9
	if timestamp > math.MaxInt64 || timestamp < math.MinInt64 {
		return nil, fmt.Errorf("%v cannot be represented as a nanoseconds timestamp since it overflows int64", v)
	}
	t := model.TimeFromUnixNano(int64(timestamp)).Time().UTC()
	return &t, nil
}
