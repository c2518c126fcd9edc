// Command alertd evaluates Prometheus alerting rules against a remote
// Prometheus-compatible server and forwards the alerts to Alertmanagers.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
)

func main() {
	// As Prometheus does: a GOGC of 75 unless the environment sets one,
	// trading a little CPU for a smaller heap.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(75)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line args and returns the exit code: 0 ok, 1 an
// error, 2 bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ka, cmds := newApp(stdout, stderr)
	cmd, code, err := parse(ka, args)
	switch {
	case code >= 0:
		return code // kingpin printed the help or the version asked for
	case err != nil:
		_, _ = io.WriteString(stderr, "alertd: error: "+err.Error()+", try --help\n")
		return 2
	}
	if f, ok := cmds[cmd]; ok {
		return f(ctx, stdout, stderr)
	}
	return 0
}

// newApp declares every command and flag: the kingpin model that Main
// parses and that docs/cli.md is generated from.
func newApp(stdout, stderr io.Writer) (*kingpin.Application, map[string]subcommand) {
	ka := kingpin.New("alertd", "Evaluates Prometheus alerting rules against a remote Prometheus and routes the alerts.")
	ka.Writer(stdout)
	ka.ErrorWriter(stderr)
	ka.HelpFlag.Short('h')
	ka.Version(versionString())
	ka.UsageWriter(stdout)

	cmds := map[string]subcommand{}
	run := newRunCmd(ka)
	cmds[run.cmd.FullCommand()] = func(ctx context.Context, _, stderr io.Writer) int { return run.run(ctx, stderr) }
	addCheckCmds(ka, cmds)
	addTestCmds(ka, cmds)
	addDryRunCmd(ka, cmds)
	return ka, cmds
}

// terminated is what kingpin's terminate function panics with once it has
// printed the help or the version, so that parsing stops there instead of
// going on to "command not specified" and a second usage text.
type terminated struct{ code int }

// parse parses args; code is -1 unless kingpin has already answered (help,
// version, no command), in which case it is the exit code to return.
func parse(ka *kingpin.Application, args []string) (cmd string, code int, err error) {
	ka.Terminate(func(c int) { panic(terminated{c}) })
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			cmd, code, err = "", t.code, nil
			if len(args) == 0 {
				code = 2 // the usage was printed: a command is needed
			}
		}
	}()
	cmd, err = ka.Parse(args)
	return cmd, -1, err
}

// subcommand runs one parsed command and returns its exit code.
type subcommand func(ctx context.Context, stdout, stderr io.Writer) int

type logFlags struct {
	level  *string
	format *string
}

func addLogFlags(c *kingpin.CmdClause) logFlags {
	return logFlags{
		level:  c.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").Enum("debug", "info", "warn", "error"),
		format: c.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").Enum("logfmt", "json"),
	}
}

func (l logFlags) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(*l.level))
	opts := &slog.HandlerOptions{Level: lvl}
	if *l.format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
