package unittest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/junitxml"

	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/rules"
)

// defaultEvaluationInterval is promtool's evaluation_interval default.
const defaultEvaluationInterval = time.Minute

// exprParser parses exp_samples as promtool does (no optional syntax).
var exprParser = parser.NewParser(parser.Options{})

// Options configure Run and RunFile. The zero value runs every test group,
// prints nothing and fails files with route assertions.
type Options struct {
	// Run, if set, selects the test groups whose name it matches, as
	// promtool's --run (unnamed groups have the name "").
	Run *regexp.Regexp
	// NewRouter builds the router of a file's config_file (the path joined
	// to the test file's directory). Nil: files with config_file or
	// exp_notifications fail.
	NewRouter func(configFile string) (Router, error)
	// Stdout and Stderr receive promtool's progress and failure output;
	// nil discards it.
	Stdout, Stderr io.Writer
	// JUnit, if set, receives the results as JUnit XML, as promtool's
	// --junit writes them.
	JUnit io.Writer
	// Now stamps the JUnit test suites; nil means time.Now.
	Now func() time.Time
}

// RunRegexp joins --run patterns as promtool does (any of them matches).
// No patterns: nil, which runs every group.
func RunRegexp(patterns []string) (*regexp.Regexp, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	re, err := regexp.Compile(strings.Join(patterns, "|"))
	if err != nil {
		return nil, fmt.Errorf("--run: %w", err)
	}
	return re, nil
}

// FileResult is the outcome of one test file.
type FileResult struct {
	File string
	// Err is set when the file could not be tested at all (unreadable,
	// bad YAML, bad config_file, ...); Groups is then empty.
	Err error
	// Warnings are rule_files patterns that matched no file.
	Warnings []string
	// Groups are the test groups run, in file order.
	Groups []GroupResult
}

// GroupResult is the outcome of one test group.
type GroupResult struct {
	// Name is the group's name, or "unnamed#N" (N its index) as in
	// promtool.
	Name string
	// Errors are its failures, each in promtool's words; none: it passed.
	Errors []error
}

// Failed reports whether the file could not be tested or a group failed.
func (r *FileResult) Failed() bool {
	return r.Err != nil || slices.ContainsFunc(r.Groups, func(g GroupResult) bool { return len(g.Errors) > 0 })
}

// Errors returns every failure of the file, in order.
func (r *FileResult) Errors() []error {
	if r.Err != nil {
		return flatten(r.Err)
	}
	var out []error
	for _, g := range r.Groups {
		out = append(out, g.Errors...)
	}
	return out
}

// Run tests the files in order, writes promtool's output and JUnit XML as
// o says, and returns promtool's exit code: 0 when every test passed, 1
// otherwise.
func Run(ctx context.Context, o Options, files ...string) int {
	stdout, stderr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	junit := &junitxml.JUnitXML{}
	code := 0
	for _, f := range files {
		_, _ = fmt.Fprintf(stdout, "Processing test file: %s\n", f)
		res := RunFile(ctx, f, o)
		for _, w := range res.Warnings {
			_, _ = fmt.Fprintln(stderr, "  WARNING: no file match pattern", w)
		}
		writeJUnit(junit.Suite(f), res, now)
		if res.Failed() {
			code = 1
			_, _ = fmt.Fprintln(stderr, "  FAILED:")
			for _, e := range res.Errors() {
				_, _ = fmt.Fprintf(stderr, "%s\n\n", e)
			}
		} else {
			_, _ = fmt.Fprintln(stdout, "  SUCCESS")
		}
		_, _ = fmt.Fprintln(stdout)
	}
	if o.JUnit != nil {
		if err := junit.WriteXML(o.JUnit); err != nil {
			_, _ = fmt.Fprintf(stderr, "write JUnit XML: %v\n", err)
		}
	}
	return code
}

// writeJUnit records a file's results as promtool does: a suite per file,
// a case per test group, a failure per error; a file that could not be
// tested is an aborted suite.
func writeJUnit(ts *junitxml.TestSuite, res *FileResult, now func() time.Time) {
	if res.Err != nil {
		ts.Abort(res.Err)
		return
	}
	ts.Settime(now().Format("2006-01-02T15:04:05"))
	for _, g := range res.Groups {
		tc := ts.Case(g.Name)
		for _, e := range g.Errors {
			tc.Fail(e.Error())
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// flatten splits errors.Join trees into their leaves.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// RunFile tests one file and returns its results; it writes nothing.
func RunFile(ctx context.Context, file string, o Options) *FileResult {
	res := &FileResult{File: file}
	b, err := os.ReadFile(file)
	if err != nil {
		res.Err = err
		return res
	}
	pf, err := parseFile(file, b)
	if err != nil {
		res.Err = err
		return res
	}
	ruleFiles, warnings, err := globRuleFiles(filepath.Dir(file), pf.RuleFiles)
	res.Warnings = warnings
	if err != nil {
		res.Err = fmt.Errorf("%s: rule_files: %w", pf.pos.at(file, "rule_files"), err)
		return res
	}
	f := &fileRun{
		file:         file,
		pf:           pf,
		evalInterval: time.Duration(pf.EvaluationInterval),
		order:        map[string]int{},
	}
	if f.evalInterval == 0 {
		f.evalInterval = defaultEvaluationInterval
	}
	for i, g := range pf.GroupEvalOrder {
		f.order[g] = i
	}
	if pf.ConfigFile != "" {
		path := pf.ConfigFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
		if o.NewRouter == nil {
			err = errNoRouter
		} else {
			f.router, err = o.NewRouter(path)
		}
		if err != nil {
			res.Err = fmt.Errorf("%s: config_file %s: %w", pf.pos.at(file, "config_file"), path, err)
			return res
		}
	}
	var (
		groups  []*rules.Group
		loadErr error
		loaded  bool
	)
	for i := range pf.Tests {
		tg := &pf.Tests[i]
		if o.Run != nil && !o.Run.MatchString(tg.TestGroupName) {
			continue
		}
		name := tg.TestGroupName
		if name == "" {
			name = fmt.Sprintf("unnamed#%d", i)
		}
		// As promtool, rule files are loaded only once a group runs.
		if !loaded {
			groups, loadErr = rules.LoadFiles(ruleFiles)
			f.sortGroups(groups)
			loaded = true
		}
		var errs []error
		if loadErr != nil {
			errs = flatten(loadErr)
		} else {
			errs = f.runGroup(ctx, i, tg, groups)
		}
		if tg.TestGroupName != "" {
			for j, e := range errs {
				errs[j] = &namedError{group: tg.TestGroupName, err: e}
			}
		}
		res.Groups = append(res.Groups, GroupResult{Name: name, Errors: errs})
	}
	return res
}

// namedError is an error of a named test group; promtool names the group
// in front of failed alert tests, alertd in front of every error.
type namedError struct {
	group string
	err   error
}

func (e *namedError) Error() string { return "    name: " + e.group + ",\n" + e.err.Error() }

func (e *namedError) Unwrap() error { return e.err }

// globRuleFiles expands rule_files relative to dir, keeping each file
// once; patterns without a match are returned as warnings, as promtool
// prints them.
func globRuleFiles(dir string, patterns []string) (files, unmatched []string, err error) {
	for _, p := range patterns {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, unmatched, fmt.Errorf("pattern %q: %w", p, err)
		}
		if len(m) == 0 {
			unmatched = append(unmatched, p)
		}
		for _, f := range m {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files, unmatched, nil
}

// fileRun is the state of one test file's run.
type fileRun struct {
	file         string
	pf           *parsedFile
	evalInterval time.Duration
	order        map[string]int // group_eval_order: name → position
	router       Router
}

// sortGroups puts the groups in group_eval_order; groups it does not name
// count as its first, as in promtool, and otherwise keep file order (where
// promtool's order is random).
func (f *fileRun) sortGroups(gs []*rules.Group) {
	slices.SortStableFunc(gs, func(a, b *rules.Group) int { return f.order[a.Name] - f.order[b.Name] })
}

// runGroup runs test group ti and returns its failures.
func (f *fileRun) runGroup(ctx context.Context, ti int, tg *testGroup, src []*rules.Group) []error {
	interval := time.Duration(tg.Interval)
	if interval == 0 {
		interval = f.evalInterval
	}
	epoch := time.Unix(0, 0).UTC()
	mint := epoch
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	series, err := expandSeries(tg.InputSeries, mint, interval)
	if err != nil {
		var se *seriesError
		if errors.As(err, &se) {
			return []error{fmt.Errorf("%s: %w", f.pf.pos.at(f.file, "tests", ti, "input_series", se.index), se.err)}
		}
		return []error{err}
	}
	groups, err := newRuleGroups(src, tg.ExternalLabels, tg.ExternalURL)
	if err != nil {
		return []error{err}
	}

	// The alert tests by eval_time, to check them as evaluation passes by.
	alertTests := map[model.Duration][]*alertTestCase{}
	var evalTimes []model.Duration
	for ai := range tg.AlertRuleTests {
		at := &tg.AlertRuleTests[ai]
		if at.Alertname == "" {
			inGroup := ""
			if tg.TestGroupName != "" {
				inGroup = fmt.Sprintf(" (in TestGroup %s)", tg.TestGroupName)
			}
			return []error{fmt.Errorf("%s: an item under alert_rule_test misses required attribute alertname at eval_time %v%s",
				f.pf.pos.at(f.file, "tests", ti, "alert_rule_test", ai), at.EvalTime, inGroup)}
		}
		if _, ok := alertTests[at.EvalTime]; !ok {
			evalTimes = append(evalTimes, at.EvalTime)
		}
		alertTests[at.EvalTime] = append(alertTests[at.EvalTime], at)
	}
	slices.Sort(evalTimes)

	ev := &evaluator{store: newMemStorage(), engine: newEngine(f.evalInterval)}
	defer func() { _ = ev.engine.Close() }()
	ld := &loader{series: series, next: make([]int, len(series))}
	maxt := mint.Add(tg.maxEvalTime())
	var (
		errs []error
		curr int
	)
	for ts := mint; !ts.After(maxt); ts = ts.Add(f.evalInterval) {
		if err := ctx.Err(); err != nil {
			return append(errs, err)
		}
		if err := ld.appendTill(ev.store, ts.Sub(epoch).Milliseconds()); err != nil {
			errs = append(errs, err)
		} else {
			var evalErrs []error
			for _, g := range groups {
				ev.evalGroup(ctx, g, ts)
				for _, r := range g.rules {
					if r.lastErr != nil {
						evalErrs = append(evalErrs, fmt.Errorf("    rule: %s, time: %s, err: %w", r.name, ts.Sub(epoch), r.lastErr))
					}
				}
			}
			// A rule that fails ends the test group, as in promtool.
			if len(evalErrs) > 0 {
				return append(errs, evalErrs...)
			}
		}
		// The alert tests whose eval_time is in [ts, ts+interval) see the
		// evaluation at ts.
		for curr < len(evalTimes) && ts.Sub(mint) <= time.Duration(evalTimes[curr]) &&
			time.Duration(evalTimes[curr]) < ts.Add(f.evalInterval).Sub(mint) {
			errs = append(errs, f.checkAlerts(tg, groups, alertTests[evalTimes[curr]])...)
			curr++
		}
	}
	for pi := range tg.PromqlExprTests {
		if err := f.checkExpr(ctx, ev, mint, &tg.PromqlExprTests[pi]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// maxEvalTime is the latest eval_time of the group's tests.
func (tg *testGroup) maxEvalTime() time.Duration {
	var m model.Duration
	for _, a := range tg.AlertRuleTests {
		m = max(m, a.EvalTime)
	}
	for _, p := range tg.PromqlExprTests {
		m = max(m, p.EvalTime)
	}
	return time.Duration(m)
}

// loader appends the input series to the storage as evaluation reaches
// them, as promtool's lazy loader does: a rule evaluated at ts sees the
// samples up to ts only.
type loader struct {
	series []loadedSeries
	next   []int // per series, the first sample not appended yet
}

func (l *loader) appendTill(s *memStorage, till int64) error {
	for i := range l.series {
		ls := &l.series[i]
		for ; l.next[i] < len(ls.samples) && ls.samples[l.next[i]].t <= till; l.next[i]++ {
			smpl := ls.samples[l.next[i]]
			if err := s.append(ls.lset, smpl.t, smpl.f, smpl.fh); err != nil {
				return fmt.Errorf("append input series %s at %d: %w", ls.lset, smpl.t, err)
			}
		}
	}
	return nil
}

// checkAlerts runs the alert tests of one eval_time against the state of
// the alerting rules.
func (f *fileRun) checkAlerts(tg *testGroup, groups []*ruleGroup, tests []*alertTestCase) []error {
	names := map[string]bool{}
	for _, at := range tests {
		names[at.Alertname] = true
	}
	// The same alertname may belong to several rules, in several groups.
	firing := map[string]labelsAndAnnotations{}
	pending := map[string]labelsAndAnnotations{}
	for _, g := range groups {
		for _, r := range g.rules {
			if r.alerting == nil || !names[r.name] {
				continue
			}
			for _, a := range r.alerting.ActiveAlerts() {
				la := labelAndAnnotation{Labels: a.Labels, Annotations: a.Annotations}
				switch a.State {
				case eval.StateFiring:
					firing[r.name] = append(firing[r.name], la)
				case eval.StatePending:
					pending[r.name] = append(pending[r.name], la)
				}
			}
		}
	}
	var errs []error
	for _, at := range tests {
		got := firing[at.Alertname]
		got.sort()
		if exp := expectedAlerts(at.Alertname, at.ExpAlerts); !equalAlerts(exp, got) {
			errs = append(errs, &alertMismatch{alertname: at.Alertname, evalTime: at.EvalTime, exp: exp, got: got, other: pending[at.Alertname]})
		}
		if at.ExpPendingAlerts != nil {
			gotPending := pending[at.Alertname]
			gotPending.sort()
			if exp := expectedAlerts(at.Alertname, at.ExpPendingAlerts); !equalAlerts(exp, gotPending) {
				errs = append(errs, &alertMismatch{alertname: at.Alertname, evalTime: at.EvalTime, pending: true, exp: exp, got: gotPending, other: got})
			}
		}
		if len(at.ExpNotifications) > 0 {
			fa := make([]firingAlert, len(got))
			for i, a := range got {
				fa[i] = firingAlert{labels: a.Labels, annotations: a.Annotations}
			}
			for ni := range at.ExpNotifications {
				if err := checkNotification(f.router, tg.ExternalLabels, at.Alertname, at.EvalTime, &at.ExpNotifications[ni], fa); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errs
}

// checkExpr runs one promql_expr_test on the data as evaluation left it.
func (f *fileRun) checkExpr(ctx context.Context, ev *evaluator, mint time.Time, pt *promqlTestCase) error {
	vec, err := ev.query(ctx, pt.Expr, mint.Add(time.Duration(pt.EvalTime)))
	if err != nil {
		return fmt.Errorf("    expr: %q, time: %s, err: %w", pt.Expr, pt.EvalTime, err)
	}
	got := make([]parsedSample, 0, len(vec))
	for _, s := range vec {
		ps := parsedSample{Labels: s.Metric, Value: s.F}
		if s.H != nil {
			ps.Histogram = s.H.TestExpression()
		}
		got = append(got, ps)
	}
	exp := make([]parsedSample, 0, len(pt.ExpSamples))
	for _, s := range pt.ExpSamples {
		ps, err := parseExpSample(s)
		if err != nil {
			return fmt.Errorf("    expr: %q, time: %s, err: %w", pt.Expr, pt.EvalTime, err)
		}
		exp = append(exp, ps)
	}
	sortSamples(exp)
	sortSamples(got)
	if equalSamples(exp, got, f.pf.FuzzyCompare) {
		return nil
	}
	return &sampleMismatch{expr: pt.Expr, evalTime: pt.EvalTime, exp: exp, got: got, fuzzy: f.pf.FuzzyCompare}
}

// parseExpSample reads an exp_samples item: labels in the series notation
// and a value, or a histogram in the series notation's histogram syntax.
func parseExpSample(s expSample) (parsedSample, error) {
	lb, err := exprParser.ParseMetric(s.Labels)
	var h *histogram.FloatHistogram
	if err == nil && s.Histogram != "" {
		_, vals, perr := exprParser.ParseSeriesDesc("{} " + s.Histogram)
		switch {
		case perr != nil:
			err = perr
		case len(vals) != 1:
			err = fmt.Errorf("expected 1 value, got %d", len(vals))
		case vals[0].Histogram == nil:
			err = fmt.Errorf("expected histogram, got %v", vals[0])
		default:
			h = vals[0].Histogram
		}
	}
	if err != nil {
		return parsedSample{}, fmt.Errorf("labels %q: %w", s.Labels, err)
	}
	ps := parsedSample{Labels: lb, Value: s.Value}
	if h != nil {
		ps.Histogram = h.TestExpression()
	}
	return ps, nil
}
