package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/alertd/alertd/app"
)

type runCmd struct {
	cmd         *kingpin.CmdClause
	configFile  *string
	storagePath *string
	listen      *string
	externalURL *string
	autoReload  *time.Duration
	log         logFlags
}

func newRunCmd(ka *kingpin.Application) *runCmd {
	c := ka.Command("run", "Run the daemon: evaluate the rules and forward the alerts.")
	return &runCmd{
		cmd:         c,
		configFile:  c.Flag("config.file", "alertd configuration file.").Default("alertd.yml").String(),
		storagePath: c.Flag("storage.path", "Directory for alertd's state.").Default("data/").String(),
		listen:      c.Flag("web.listen-address", "Address to serve the API and metrics on.").Default(":9095").String(),
		externalURL: c.Flag("web.external-url", "The URL alertd is reached at, for generator URLs and templates. Default: global.external_url, else derived from the host name and port.").Default("").String(),
		autoReload:  c.Flag("config.auto-reload-interval", "How often to check the configuration and rule files for changes and reload them; 0 disables it (SIGHUP and POST /-/reload still work).").Default("5s").Duration(),
		log:         addLogFlags(c),
	}
}

func (r *runCmd) run(ctx context.Context, stderr io.Writer) int {
	logger := r.log.logger(stderr)
	watch := *r.autoReload
	if watch <= 0 {
		watch = -1 // app: negative disables watching
	}
	a, err := app.New(app.Options{
		WatchInterval: watch,
		ConfigFile:    *r.configFile,
		StoragePath:   *r.storagePath,
		ListenAddress: *r.listen,
		ExternalURL:   *r.externalURL,
		Logger:        logger,
	})
	if err != nil {
		_, _ = io.WriteString(stderr, "alertd: cannot start:\n"+err.Error()+"\n")
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = a.Reload() // logged by Reload; the running config is kept
			}
		}
	}()
	if err := a.Run(ctx); err != nil {
		logger.Error("alertd stopped", "err", err)
		return 1
	}
	return 0
}
