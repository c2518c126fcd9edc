package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/rules/unittest"
)

// addTestCmds registers "test rules", promtool's "test rules": the same
// file format, flags, output and exit codes.
func addTestCmds(ka *kingpin.Application, cmds map[string]subcommand) {
	test := ka.Command("test", "Unit testing.")
	junit := test.Flag("junit", "File path to store JUnit XML test results.").String()
	rulesCmd := test.Command("rules", "Unit tests for rules, in promtool's test file format (see docs/unittest.md).")
	run := rulesCmd.Flag("run", "If set, will only run test groups whose names match the regular expression. Can be specified multiple times.").Strings()
	files := rulesCmd.Arg("test-rule-file", "The unit test file.").Required().Strings()
	cmds[rulesCmd.FullCommand()] = func(ctx context.Context, stdout, stderr io.Writer) int {
		re, err := unittest.RunRegexp(*run)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "alertd: error: %v, try --help\n", err)
			return 2
		}
		o := unittest.Options{
			Run:       re,
			Stdout:    stdout,
			Stderr:    stderr,
			NewRouter: newRouter,
		}
		var out *os.File
		if *junit != "" {
			if out, err = os.Create(*junit); err != nil {
				_, _ = fmt.Fprintf(stderr, "alertd: error: --junit: %v\n", err)
				return 1
			}
			o.JUnit = out
		}
		code := unittest.Run(ctx, o, *files...)
		if out != nil {
			if err := out.Close(); err != nil {
				_, _ = fmt.Fprintf(stderr, "alertd: error: --junit: %v\n", err)
				return 1
			}
		}
		return code
	}
}

// newRouter routes the alerts of a test file's exp_notifications with the
// config_file's routing tree and integrations, as `alertd run` would
// (app.Previewer): nothing is sent.
func newRouter(file string) (unittest.Router, error) {
	cfg, err := config.LoadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := app.NewPreviewer(cfg, app.PreviewOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return previewRouter{p}, nil
}

// previewRouter is an app.Previewer as a unittest.Router.
type previewRouter struct{ p *app.Previewer }

func (r previewRouter) Route(lbls, annotations map[string]string) ([]unittest.Delivery, error) {
	ds, err := r.p.Route(lbls, annotations)
	out := make([]unittest.Delivery, len(ds))
	for i, d := range ds {
		out[i] = unittest.Delivery(d)
	}
	return out, err
}
