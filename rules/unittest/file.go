package unittest

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// testFile is a unit test file: promtool's schema (Prometheus v3, as
// cmd/promtool/unittest.go declares it) plus config_file, alertd's own.
type testFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []testGroup    `yaml:"tests"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`

	// ConfigFile is alertd's: the alertd.yml that exp_notifications route
	// with, relative to the test file.
	ConfigFile string `yaml:"config_file,omitempty"`
}

// testGroup is one entry of tests: input series and the assertions on them.
type testGroup struct {
	Interval        model.Duration   `yaml:"interval"`
	InputSeries     []inputSeries    `yaml:"input_series"`
	AlertRuleTests  []alertTestCase  `yaml:"alert_rule_test,omitempty"`
	PromqlExprTests []promqlTestCase `yaml:"promql_expr_test,omitempty"`
	ExternalLabels  labels.Labels    `yaml:"external_labels,omitempty"`
	ExternalURL     string           `yaml:"external_url,omitempty"`
	TestGroupName   string           `yaml:"name,omitempty"`
	StartTimestamp  startTimestamp   `yaml:"start_timestamp,omitempty"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTestCase struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlert     `yaml:"exp_alerts"`

	// ExpPendingAlerts is alertd's: nil (absent) asserts nothing, a list
	// (even an empty one) the pending alerts of Alertname.
	ExpPendingAlerts []expAlert `yaml:"exp_pending_alerts"`
	// ExpNotifications is alertd's: route assertions on firing alerts.
	ExpNotifications []expNotification `yaml:"exp_notifications"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

type promqlTestCase struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []expSample    `yaml:"exp_samples"`
}

type expSample struct {
	Labels    string  `yaml:"labels"`
	Value     float64 `yaml:"value"`
	Histogram string  `yaml:"histogram"` // non-empty: Value is ignored
}

// expNotification selects one firing alert by its labels and asserts where
// it is routed and what its notifications say. Only the fields given are
// compared.
type expNotification struct {
	ExpLabels map[string]string `yaml:"exp_labels"`
	Receivers []string          `yaml:"receivers"`
	Slack     *struct {
		Title *string `yaml:"title"`
		Text  *string `yaml:"text"`
	} `yaml:"slack"`
	Email *struct {
		Subject *string `yaml:"subject"`
		HTML    *string `yaml:"html"`
		Text    *string `yaml:"text"`
	} `yaml:"email"`
	PagerDuty *struct {
		Summary *string `yaml:"summary"`
	} `yaml:"pagerduty"`
	Webhook map[string]string `yaml:"webhook"`
}

// fieldCheck is one expected field of one integration's message.
type fieldCheck struct {
	integration, field, want string
}

// checks lists the fields n asserts, in a fixed order.
func (n *expNotification) checks() []fieldCheck {
	var out []fieldCheck
	add := func(integration, field string, v *string) {
		if v != nil {
			out = append(out, fieldCheck{integration, field, *v})
		}
	}
	if s := n.Slack; s != nil {
		add("slack", "title", s.Title)
		add("slack", "text", s.Text)
	}
	if e := n.Email; e != nil {
		add("email", "subject", e.Subject)
		add("email", "html", e.HTML)
		add("email", "text", e.Text)
	}
	if p := n.PagerDuty; p != nil {
		add("pagerduty", "summary", p.Summary)
	}
	for _, k := range sortedKeys(n.Webhook) {
		v := n.Webhook[k]
		add("webhook", k, &v)
	}
	return out
}

// startTimestamp is a start_timestamp: Unix seconds or RFC 3339, as
// promtool's parseTime reads it.
type startTimestamp struct {
	time.Time
}

// UnmarshalYAML reads Unix seconds (with a fraction) or an RFC 3339 time.
func (t *startTimestamp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC()
		return nil
	}
	if parsed, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = parsed
		return nil
	}
	return fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parsedFile is a test file read and checked, with the lines of its parts.
type parsedFile struct {
	testFile
	pos positions
}

// parseFile reads a test file with promtool's strict YAML decoding: an
// unknown key is an error. Errors name the file and line.
func parseFile(name string, content []byte) (*parsedFile, error) {
	pf := &parsedFile{pos: newPositions(content)}
	if err := yamlv2.UnmarshalStrict(content, &pf.testFile); err != nil {
		return nil, yamlError(name, err, pf.pos)
	}
	if err := pf.validate(name); err != nil {
		return nil, err
	}
	return pf, nil
}

// validate checks what promtool checks before running any test, and the
// shape of alertd's additions.
func (pf *parsedFile) validate(name string) error {
	seen := map[string]bool{}
	for i, g := range pf.GroupEvalOrder {
		if seen[g] {
			return fmt.Errorf("%s: group name repeated in evaluation order: %s", pf.pos.at(name, "group_eval_order", i), g)
		}
		seen[g] = true
	}
	var errs []error
	for ti := range pf.Tests {
		for ai, at := range pf.Tests[ti].AlertRuleTests {
			for ni, n := range at.ExpNotifications {
				where := pf.pos.at(name, "tests", ti, "alert_rule_test", ai, "exp_notifications", ni)
				switch {
				case pf.ConfigFile == "":
					errs = append(errs, fmt.Errorf("%s: exp_notifications needs config_file, the alertd.yml to route with", where))
				case n.Receivers == nil && len(n.checks()) == 0:
					errs = append(errs, fmt.Errorf("%s: exp_notifications item asserts nothing: give receivers, slack, email, pagerduty or webhook", where))
				}
			}
		}
	}
	return errors.Join(errs...)
}

var (
	yamlLineRE = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
	// Go type names in yaml.v2's messages, in the words of the file.
	yamlTypeNames = strings.NewReplacer(
		"in type unittest.testFile", "at the top level",
		"in type unittest.testGroup", "in a tests item",
		"in type unittest.inputSeries", "in an input_series item",
		"in type unittest.alertTestCase", "in an alert_rule_test item",
		"in type unittest.expAlert", "in an exp_alerts item",
		"in type unittest.promqlTestCase", "in a promql_expr_test item",
		"in type unittest.expSample", "in an exp_samples item",
		"in type unittest.expNotification", "in an exp_notifications item",
	)
)

// yamlError turns a yaml.v2 error into one error per problem, each with
// file:line.
func yamlError(name string, err error, pos positions) error {
	var te *yamlv2.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, s := range te.Errors {
			errs = append(errs, lineError(name, s, pos))
		}
		return errors.Join(errs...)
	}
	return lineError(name, strings.TrimPrefix(err.Error(), "yaml: "), pos)
}

var quotedRE = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// lineError names the line yaml.v2 gives, or else the line of the first
// value the message quotes.
func lineError(name, msg string, pos positions) error {
	msg = yamlTypeNames.Replace(msg)
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], m[2])
	}
	msg = strings.TrimSpace(msg)
	for _, q := range quotedRE.FindAllStringSubmatch(msg, -1) {
		v, err := strconv.Unquote(q[0])
		if err != nil {
			continue
		}
		if l, ok := pos[valueKey(v)]; ok {
			return fmt.Errorf("%s:%d: %s", name, l, msg)
		}
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// positions maps a path in the YAML tree ("tests.0.input_series.2") to the
// line it starts on.
type positions map[string]int

func newPositions(content []byte) positions {
	p := positions{}
	var root yaml.Node
	if yaml.Unmarshal(content, &root) != nil || len(root.Content) == 0 {
		return p
	}
	p.walk("", root.Content[0])
	return p
}

// walk records the line of n at path: a mapping value is at its key's line.
func (p positions) walk(path string, n *yaml.Node) {
	if _, ok := p[path]; !ok {
		p[path] = n.Line
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := join(n.Content[i].Value)
			p[k] = n.Content[i].Line
			p.walk(k, n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.walk(join(strconv.Itoa(i)), c)
		}
	case yaml.ScalarNode:
		// For errors that quote a value but name no line (those of
		// durations and timestamps): the first line holding it.
		if _, ok := p[valueKey(n.Value)]; !ok {
			p[valueKey(n.Value)] = n.Line
		}
	}
}

// valueKey is where positions keeps the line of a scalar value; paths never
// start with a NUL.
func valueKey(v string) string { return "\x00" + v }

// at returns "file:line" for the element at path (keys and indexes), or
// "file" when its line is unknown.
func (p positions) at(file string, path ...any) string {
	parts := make([]string, len(path))
	for i, e := range path {
		parts[i] = fmt.Sprint(e)
	}
	if l, ok := p[strings.Join(parts, ".")]; ok && l > 0 {
		return file + ":" + strconv.Itoa(l)
	}
	return file
}
