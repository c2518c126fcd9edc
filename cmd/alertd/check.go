package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/eval/templates"
	"github.com/alertd/alertd/rules"
)

// Exit codes of alertd check, as promtool's.
const (
	checkOK        = 0
	checkFailed    = 1
	checkUsage     = 2
	checkLintFatal = 3
)

type checkFlags struct {
	lint   *string
	fatal  *bool
	output *string
}

func addCheckFlags(c *kingpin.CmdClause, lints []string) checkFlags {
	return checkFlags{
		lint: c.Flag("lint", "Lints to run: all, none, or a comma-separated list of "+strings.Join(lints, ", ")+
			". Lint findings are warnings unless --lint-fatal.").Default("all").String(),
		fatal:  c.Flag("lint-fatal", "Make lint findings exit with code 3.").Bool(),
		output: c.Flag("output", "Output format: text (promtool's) or json.").Default("text").Enum("text", "json"),
	}
}

// addCheckCmds registers "check config" and "check rules".
func addCheckCmds(ka *kingpin.Application, cmds map[string]subcommand) {
	check := ka.Command("check", "Check rule files or a configuration file.")

	rc := check.Command("rules", "Check rule files as promtool check rules does, plus lints.")
	ruleFiles := rc.Arg("rule-files", "The rule files to check.").Required().Strings()
	rf := addCheckFlags(rc, rules.Lints)
	cmds[rc.FullCommand()] = func(ctx context.Context, stdout, stderr io.Writer) int {
		c, code := newChecker(rf, rules.Lints, stdout, stderr)
		if c == nil {
			return code
		}
		rep := &checkReport{Files: c.checkRuleFiles(ctx, *ruleFiles, nil, "")}
		return c.finish(rep)
	}

	cc := check.Command("config", "Check a configuration file, its routing tree and its rule files.")
	configFile := cc.Arg("config-file", "The configuration file to check.").Required().String()
	allLints := append(slices.Clone(rules.Lints), config.RoutingLints...)
	cf := addCheckFlags(cc, allLints)
	cmds[cc.FullCommand()] = func(ctx context.Context, stdout, stderr io.Writer) int {
		c, code := newChecker(cf, allLints, stdout, stderr)
		if c == nil {
			return code
		}
		return c.finish(c.checkConfig(ctx, *configFile))
	}
}

// checker runs one alertd check command.
type checker struct {
	stdout, stderr io.Writer
	json           bool
	fatal          bool
	enabled        map[string]bool
}

// newChecker parses the flags; on bad usage it returns nil and the exit
// code, having said why.
func newChecker(f checkFlags, valid []string, stdout, stderr io.Writer) (*checker, int) {
	enabled, err := parseLints(*f.lint, valid)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "alertd: error: --lint: %v, try --help\n", err)
		return nil, checkUsage
	}
	return &checker{stdout: stdout, stderr: stderr, json: *f.output == "json", fatal: *f.fatal, enabled: enabled}, checkOK
}

// parseLints reads --lint: all, none, or names. none anywhere turns every
// lint off.
func parseLints(s string, valid []string) (map[string]bool, error) {
	enabled := map[string]bool{}
	none := false
	for name := range strings.SplitSeq(s, ",") {
		switch name = strings.TrimSpace(name); {
		case name == "all":
			for _, v := range valid {
				enabled[v] = true
			}
		case name == "none":
			none = true
		case slices.Contains(valid, name):
			enabled[name] = true
		case slices.Contains(config.RoutingLints, name):
			return nil, fmt.Errorf("lint %q applies to check config only", name)
		default:
			return nil, fmt.Errorf("unknown lint %q (valid: all, none, %s)", name, strings.Join(valid, ", "))
		}
	}
	if none {
		clear(enabled)
	}
	return enabled, nil
}

// checkReport is alertd check's result, and its JSON output (documented in
// docs/check.md; fields are only ever added).
type checkReport struct {
	Files    []*checkedFile `json:"files"`
	Errors   int            `json:"errors"`
	Findings int            `json:"findings"`
	ExitCode int            `json:"exit_code"`
}

// checkedFile is the result of one file.
type checkedFile struct {
	File string `json:"file"`
	// Kind is "rules" or "config".
	Kind string `json:"kind"`
	// Rules counts the rules of a rule file, or the rule files of a
	// configuration file; 0 when the file has errors.
	Rules     int            `json:"rules"`
	RuleFiles []string       `json:"rule_files,omitempty"`
	Errors    []checkError   `json:"errors"`
	Findings  []checkFinding `json:"findings"`
	// Warnings are notes that are neither errors nor lint findings, such
	// as a rule_files pattern that matches no file.
	Warnings []string `json:"warnings,omitempty"`
}

type checkError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
	text    string
}

type checkFinding struct {
	Lint      string `json:"lint"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Group     string `json:"group,omitempty"`
	RuleIndex int    `json:"rule_index,omitempty"`
	Rule      string `json:"rule,omitempty"`
	Route     string `json:"route,omitempty"`
	Receiver  string `json:"receiver,omitempty"`
	Message   string `json:"message"`
	text      string
}

// checkRuleFiles checks rule files together (duplicates are looked for
// across all of them), rendering templates with the external labels and
// URL given. A file given twice is checked once.
func (c *checker) checkRuleFiles(ctx context.Context, files []string, extLabels map[string]string, extURL string) []*checkedFile {
	out := make([]*checkedFile, 0, len(files))
	byFile := map[string]*checkedFile{}
	var groups []*rules.Group
	for _, f := range files {
		if byFile[f] != nil {
			continue
		}
		cf := &checkedFile{File: f, Kind: "rules", Errors: []checkError{}, Findings: []checkFinding{}}
		out = append(out, cf)
		byFile[f] = cf
		gs, err := rules.LoadFile(f)
		if err != nil {
			cf.Errors = ruleErrors(f, err)
			continue
		}
		for _, g := range gs {
			cf.Rules += len(g.Rules)
		}
		groups = append(groups, gs...)
	}
	opts := rules.LintOptions{Enabled: c.enabled, Render: renderFunc(ctx, extLabels, extURL)}
	for _, f := range rules.Lint(groups, opts) {
		cf := byFile[f.File]
		cf.Findings = append(cf.Findings, checkFinding{
			Lint: f.Lint, File: f.File, Line: f.Line, Group: f.Group, RuleIndex: f.Rule, Rule: f.RuleName,
			Message: f.Msg, text: f.String(),
		})
	}
	return out
}

// ruleErrors splits what rules.LoadFile returns into its errors.
func ruleErrors(file string, err error) []checkError {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]checkError, 0, len(errs))
	for _, e := range errs {
		if re, ok := errors.AsType[*rules.Error](e); ok {
			out = append(out, checkError{File: re.File, Line: re.Line, Column: re.Column, Message: re.Msg, text: re.Error()})
			continue
		}
		out = append(out, checkError{File: file, Message: e.Error(), text: file + ": " + e.Error()})
	}
	return out
}

// renderFunc expands templates as rule evaluation does (eval/templates),
// with a query function that answers every query with one sample, so that
// templates calling query render as they would on data.
func renderFunc(ctx context.Context, extLabels map[string]string, extURL string) rules.RenderFunc {
	ext := labels.FromMap(extLabels)
	query := func(context.Context, string, time.Time) (datasource.Vector, error) {
		return datasource.Vector{{Metric: labels.EmptyLabels(), Value: rules.SampleValue}}, nil
	}
	return func(alert, text string, series map[string]string, value float64) error {
		t, err := templates.Compile("__alert_"+alert, text)
		if err != nil {
			return err
		}
		env := &templates.Env{Ctx: ctx, TS: time.Now(), Query: query, ExternalURL: extURL}
		_, err = t.Execute(nil, env, &templates.Data{Labels: labels.FromMap(series), ExternalLabels: ext, ExternalURL: extURL, Value: value})
		if err != nil {
			return errors.New(userColumn(err.Error(), "__alert_"+alert))
		}
		return nil
	}
}

// userColumn rewrites the column of a template error on the first line,
// which counts templates.Prefix as Prometheus's errors do, to count from the
// start of the text the user wrote.
func userColumn(msg, name string) string {
	marker := "template: " + name + ":1:"
	i := strings.Index(msg, marker)
	if i < 0 {
		return msg
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return msg
	}
	col, err := strconv.Atoi(rest[:j])
	if err != nil || col <= len(templates.Prefix) {
		return msg
	}
	return msg[:i+len(marker)] + strconv.Itoa(col-len(templates.Prefix)) + rest[j:]
}

// checkConfig checks a configuration file as alertd run loads it, lints
// its routing tree, and checks its rule files.
func (c *checker) checkConfig(ctx context.Context, file string) *checkReport {
	cf := &checkedFile{File: file, Kind: "config", Errors: []checkError{}, Findings: []checkFinding{}}
	rep := &checkReport{Files: []*checkedFile{cf}}
	cfg, err := config.LoadFile(file)
	if err != nil {
		cf.Errors = configErrors(file, err)
		return rep
	}
	if err := app.ValidateRouting(cfg); err != nil {
		cf.Errors = configErrors(file, fmt.Errorf("%s: %w", file, err))
		return rep
	}
	dir := filepath.Dir(file)
	var files []string
	for _, p := range cfg.RuleFiles {
		m, err := rules.Files(dir, []string{p})
		if err != nil {
			cf.Errors = append(cf.Errors, checkError{File: file, Message: err.Error(), text: file + ": " + err.Error()})
			continue
		}
		if len(m) == 0 {
			cf.Warnings = append(cf.Warnings, fmt.Sprintf("rule_files pattern %q matches no file", p))
		}
		for _, f := range m {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	if len(cf.Errors) > 0 {
		return rep
	}
	cf.Rules, cf.RuleFiles = len(files), files
	src, err := os.ReadFile(file)
	if err != nil {
		src = nil // lines are then unknown; LoadFile has just read it
	}
	for _, f := range cfg.LintRouting(src, c.enabled) {
		at := (&rules.Error{File: file, Line: f.Line, Msg: f.Msg + " [" + f.Lint + "]"}).Error()
		cf.Findings = append(cf.Findings, checkFinding{
			Lint: f.Lint, File: file, Line: f.Line, Route: f.Route, Receiver: f.Receiver, Message: f.Msg, text: at,
		})
	}
	extURL := cfg.Global.ExternalURL
	rep.Files = append(rep.Files, c.checkRuleFiles(ctx, files, cfg.Global.ExternalLabels, extURL)...)
	return rep
}

var configErrLine = regexp.MustCompile(`^(\d+): (.*)$`)

// configErrors splits config.LoadFile's error, one "file:line: msg" or
// "file: msg" per line, into errors.
func configErrors(file string, err error) []checkError {
	var out []checkError
	for line := range strings.SplitSeq(err.Error(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		ce := checkError{File: file, Message: line, text: line}
		if rest, ok := strings.CutPrefix(line, file+":"); ok {
			ce.Message = strings.TrimPrefix(rest, " ")
			if m := configErrLine.FindStringSubmatch(rest); m != nil {
				ce.Line, _ = strconv.Atoi(m[1])
				ce.Message = m[2]
			}
		} else {
			ce.text = file + ": " + line
		}
		out = append(out, ce)
	}
	return out
}

// finish prints the report and returns the exit code: 1 on errors, else 3
// on findings with --lint-fatal, else 0.
func (c *checker) finish(rep *checkReport) int {
	for _, f := range rep.Files {
		rep.Errors += len(f.Errors)
		rep.Findings += len(f.Findings)
	}
	switch {
	case rep.Errors > 0:
		rep.ExitCode = checkFailed
	case rep.Findings > 0 && c.fatal:
		rep.ExitCode = checkLintFatal
	}
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			_, _ = fmt.Fprintf(c.stderr, "alertd: write output: %v\n", err)
			return checkFailed
		}
		return rep.ExitCode
	}
	for _, f := range rep.Files {
		c.printText(f)
	}
	return rep.ExitCode
}

// printText prints one file's result in promtool's shape: progress and
// success on stdout, failures, warnings and findings on stderr.
func (c *checker) printText(f *checkedFile) {
	out, errw := c.stdout, c.stderr
	_, _ = fmt.Fprintln(out, "Checking", f.File)
	for _, w := range f.Warnings {
		_, _ = fmt.Fprintln(errw, "  WARNING:", w)
	}
	switch {
	case len(f.Errors) > 0:
		_, _ = fmt.Fprintln(errw, "  FAILED:")
		for _, e := range f.Errors {
			_, _ = fmt.Fprintln(errw, e.text)
		}
	case len(f.Findings) > 0 && c.fatal:
		_, _ = fmt.Fprintln(errw, "  FAILED:")
		c.printFindings(f)
	default:
		if f.Kind == "config" {
			_, _ = fmt.Fprintf(out, "  SUCCESS: %d rule files found\n", f.Rules)
			_, _ = fmt.Fprintf(out, " SUCCESS: %s is valid alertd config file syntax\n", f.File)
		} else {
			_, _ = fmt.Fprintf(out, "  SUCCESS: %d rules found\n", f.Rules)
		}
		if len(f.Findings) > 0 {
			_, _ = fmt.Fprintf(errw, "  WARNING: %d lint %s:\n", len(f.Findings), plural(len(f.Findings), "finding", "findings"))
			c.printFindings(f)
		}
	}
	_, _ = fmt.Fprintln(out)
}

func (c *checker) printFindings(f *checkedFile) {
	for _, fd := range f.Findings {
		_, _ = fmt.Fprintln(c.stderr, fd.text)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
