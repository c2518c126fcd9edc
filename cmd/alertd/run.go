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
	webConfig   *string
	autoReload  *time.Duration
	outageTol   *time.Duration
	gracePeriod *time.Duration
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
		webConfig:   c.Flag("web.config.file", "Path to configuration file that can enable TLS or authentication (Prometheus's exporter-toolkit web configuration). See: https://prometheus.io/docs/prometheus/latest/configuration/https/").Default("").String(),
		autoReload:  c.Flag("config.auto-reload-interval", "How often to check the configuration and rule files for changes and reload them; 0 disables it (SIGHUP and POST /-/reload still work).").Default("5s").Duration(),
		outageTol:   c.Flag("rules.alert.for-outage-tolerance", "Max time to tolerate an alertd outage for restoring the 'for' state of pending alerts (Prometheus's flag). Firing alerts are always restored.").Default("1h").Duration(),
		gracePeriod: c.Flag("rules.alert.for-grace-period", "Minimum duration between the restart and a restored pending alert firing; rules whose 'for' is shorter are not restored (Prometheus's flag).").Default("10m").Duration(),
		log:         addLogFlags(c),
	}
}

func (r *runCmd) run(ctx context.Context, stderr io.Writer) int {
	logger := r.log.logger(stderr)
	watch := *r.autoReload
	if watch <= 0 {
		watch = -1 // app: negative disables watching
	}
	// Checked before anything is opened, as Prometheus does; Run checks it
	// again before it listens.
	if err := app.ValidateWebConfig(*r.webConfig); err != nil {
		_, _ = io.WriteString(stderr, "alertd: cannot start:\n"+err.Error()+"\n")
		return 1
	}
	a, err := app.New(app.Options{
		WatchInterval: watch,
		ConfigFile:    *r.configFile,
		StoragePath:   *r.storagePath,
		ListenAddress: *r.listen,
		ExternalURL:   *r.externalURL,
		WebConfigFile: *r.webConfig,
		Logger:        logger,

		ForOutageTolerance: *r.outageTol,
		ForGracePeriod:     *r.gracePeriod,
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
