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
	"slices"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
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
	ka := kingpin.New("alertd", "Evaluates Prometheus alerting rules against a remote Prometheus and routes the alerts.")
	ka.Writer(stdout)
	ka.ErrorWriter(stderr)
	ka.Terminate(nil)
	ka.HelpFlag.Short('h')
	ka.Version(version.Print("alertd"))
	ka.UsageWriter(stdout)

	cmds := map[string]subcommand{}
	run := newRunCmd(ka)
	cmds[run.cmd.FullCommand()] = func(ctx context.Context, _, stderr io.Writer) int { return run.run(ctx, stderr) }
	addCheckCmds(ka, cmds)
	addTestCmds(ka, cmds)
	addDryRunCmd(ka, cmds)
	cmd, err := ka.Parse(args)
	if err != nil {
		if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "--version" || a == "help" }) {
			return 0 // kingpin printed what was asked for
		}
		_, _ = io.WriteString(stderr, "alertd: error: "+err.Error()+", try --help\n")
		return 2
	}
	if f, ok := cmds[cmd]; ok {
		return f(ctx, stdout, stderr)
	}
	return 0
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
