package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/grouping"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/forward"
	"github.com/alertd/alertd/rules"
	"github.com/alertd/alertd/silences"
	"github.com/alertd/alertd/store"
	"github.com/alertd/alertd/web"
)

// DrainTimeout bounds how long a shutdown waits for the notifications under
// way to finish.
const DrainTimeout = 10 * time.Second

// DefaultWatchInterval is how often the configuration and rule files are
// checked for changes.
const DefaultWatchInterval = 5 * time.Second

// Options configure the daemon. ConfigFile is required.
type Options struct {
	ConfigFile    string
	StoragePath   string        // created if missing
	ListenAddress string        // default ":9095"; "127.0.0.1:0" picks a free port
	ExternalURL   string        // overrides global.external_url
	WatchInterval time.Duration // default DefaultWatchInterval; negative disables watching
	Logger        *slog.Logger
	Registry      *prometheus.Registry // nil: a new one
	WebConfigFile string               // --web.config.file: TLS and basic auth, as Prometheus's exporter-toolkit

	// ForOutageTolerance and ForGracePeriod are Prometheus's
	// --rules.alert.for-outage-tolerance and --rules.alert.for-grace-period
	// (zero: 1h and 10m): what a restart keeps of pending alerts.
	ForOutageTolerance, ForGracePeriod time.Duration
}

// App is the alertd daemon.
type App struct {
	o        Options
	logger   *slog.Logger
	reg      *prometheus.Registry
	manager  *eval.Manager
	fwd      *forward.Forwarder
	ds       atomic.Pointer[datasource.Client]
	handler  http.Handler
	started  chan struct{}
	addr     atomic.Value // string
	ready    atomic.Bool
	reloadMu sync.Mutex
	cfg      atomic.Pointer[config.Config]
	digest   [32]byte

	// The Alertmanager half: the store, silences and alerts live as long
	// as the daemon; the routing half is rebuilt on reload.
	store    *store.Store
	silences *silences.Silences
	history  *notify.HistoryLog
	dsHealth dsHealth
	alerts   *grouping.Alerts
	am       atomic.Pointer[amHalf]
	amMu     sync.RWMutex
	runCtx   context.Context // set once Run starts

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

// New loads and validates the configuration and every rule file, and builds
// the daemon. It starts nothing: an error here names the file and line.
func New(o Options) (_ *App, err error) {
	if o.ConfigFile == "" {
		return nil, errors.New("no configuration file given")
	}
	if o.ListenAddress == "" {
		o.ListenAddress = ":9095"
	}
	if o.WatchInterval == 0 {
		o.WatchInterval = DefaultWatchInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	a := &App{
		o:       o,
		logger:  o.Logger.With("component", "app"),
		reg:     o.Registry,
		started: make(chan struct{}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alertd_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alertd_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	a.reg.MustRegister(a.reloadOK, a.reloadTime)
	a.reg.MustRegister(a.dispatcherGauges()...)
	if o.StoragePath != "" {
		if a.store, err = store.Open(o.StoragePath); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = a.store.Close()
			}
		}()
	}
	sil, err := silences.New(silences.Options{Store: a.store, Logger: o.Logger.With("component", "silences"), Registerer: a.reg})
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	a.silences = sil
	if a.history, err = notify.NewHistoryLog(notify.HistoryLogOptions{Store: a.store, Logger: o.Logger.With("component", "notify")}); err != nil {
		return nil, err
	}
	a.alerts = grouping.NewAlerts(grouping.AlertsOptions{OnPut: a.onPut})

	fwd, err := forward.New(forward.Options{Logger: o.Logger.With("component", "forward"), Registerer: a.reg})
	if err != nil {
		return nil, err
	}
	a.fwd = fwd
	mo := eval.ManagerOptions{
		Query:           a.query,
		Sink:            sink{a},
		Logger:          o.Logger,
		Registerer:      a.reg,
		OutageTolerance: o.ForOutageTolerance,
		ForGracePeriod:  o.ForGracePeriod,
	}
	if a.store != nil {
		mo.State = alertState{a.store}
	}
	a.manager = eval.NewManager(mo)
	if err = a.load(); err != nil {
		return nil, err
	}
	a.handler = api.New(api.Options{
		Rules:    a.manager,
		Reload:   func(context.Context) error { return a.Reload() },
		Ready:    a.ready.Load,
		Gatherer: a.reg,
		Logger:   o.Logger.With("component", "api"),
		// The UI and what it reads beyond the Prometheus and
		// Alertmanager APIs (ui.go).
		Notifications: a.history,
		DatasourceURL: a.datasourceURL,
		UI:            web.Handler(),
		Alertmanager: &api.AlertmanagerOptions{
			Alerts:         a.alerts,
			Router:         router{a},
			Silences:       a.silences,
			Silencer:       a.silences,
			Inhibitor:      inhibitorMuter{a},
			ResolveTimeout: a.resolveTimeout,
			ConfigYAML:     a.alertmanagerYAML,
			Receivers:      a.receiverNames,
			StartTime:      time.Now(),
		},
	})
	return a, nil
}

var errNoDatasource = errors.New("no datasource configured")

func (a *App) query(ctx context.Context, q string, ts time.Time) (datasource.Vector, error) {
	ds := a.ds.Load()
	if ds == nil {
		return nil, errNoDatasource
	}
	v, err := ds.Query(ctx, q, ts)
	a.dsHealth.observe(err, time.Now())
	return v, err
}

// loaded is everything built from the files, before it is swapped in.
type loaded struct {
	cfg      *config.Config
	groups   []*rules.Group
	settings eval.Settings
	ds       *datasource.Client
	targets  []forward.Target
	am       *amHalf
	digest   [32]byte
}

func (a *App) build() (*loaded, error) {
	cfg, err := config.LoadFile(a.o.ConfigFile)
	if err != nil {
		return nil, err
	}
	files, err := rules.Files(filepath.Dir(a.o.ConfigFile), cfg.RuleFiles)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.o.ConfigFile, err)
	}
	groups, err := rules.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	externalURL, err := a.externalURL(cfg)
	if err != nil {
		return nil, err
	}
	l := &loaded{
		cfg:    cfg,
		groups: groups,
		settings: eval.Settings{
			DefaultInterval:    time.Duration(cfg.Global.EvaluationInterval),
			DefaultQueryOffset: time.Duration(cfg.Global.QueryOffset),
			ResendDelay:        time.Duration(cfg.Global.ResendDelay),
			ExternalLabels:     labels.FromMap(cfg.Global.ExternalLabels),
			ExternalURL:        externalURL,
		},
		digest: digest(watched(a.o.ConfigFile, cfg, files)),
	}
	if cfg.Datasource.URL != "" {
		l.ds, err = datasource.New(datasource.Options{
			URL:        cfg.Datasource.URL,
			Timeout:    time.Duration(cfg.Datasource.Timeout),
			HTTPConfig: cfg.Datasource.HTTPConfig,
			Headers:    cfg.Datasource.Headers,
			Logger:     a.o.Logger.With("component", "datasource"),
			Registerer: a.reg,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: datasource: %w", a.o.ConfigFile, err)
		}
	}
	for _, am := range cfg.Alertmanagers {
		for _, u := range am.URLs() {
			l.targets = append(l.targets, forward.Target{URL: u, Timeout: time.Duration(am.Timeout), HTTPConfig: am.HTTPClientConfig})
		}
	}
	if err := forward.ValidateTargets(l.targets); err != nil {
		return nil, fmt.Errorf("%s: alertmanagers: %w", a.o.ConfigFile, err)
	}
	if l.am, err = buildAMHalf(cfg.Alertmanager, a.o.Logger); err != nil {
		return nil, fmt.Errorf("%s: %w", a.o.ConfigFile, err)
	}
	return l, nil
}

// externalURL is the URL alertd is reached at, for generator URLs and
// templates: the flag, else global.external_url, else derived from the
// listen address as Prometheus does.
func (a *App) externalURL(cfg *config.Config) (string, error) {
	s := a.o.ExternalURL
	if s == "" {
		s = cfg.Global.ExternalURL
	}
	if s == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "localhost"
		}
		_, port, err := net.SplitHostPort(a.o.ListenAddress)
		if err != nil {
			return "", fmt.Errorf("listen address %q: %w", a.o.ListenAddress, err)
		}
		s = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("external URL %q is not an http or https URL", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// load builds everything and swaps it in; on error nothing changes.
func (a *App) load() error {
	l, err := a.build()
	if err != nil {
		return err
	}
	if err := a.manager.Update(l.settings, l.groups); err != nil {
		return err
	}
	if err := a.fwd.ApplyConfig(l.targets, labels.EmptyLabels()); err != nil {
		// Validated in build; only a bug gets here.
		a.logger.Error("applying alertmanagers failed after validation", "err", err)
	}
	if old := a.ds.Swap(l.ds); old != nil {
		old.CloseIdleConnections()
	}
	a.cfg.Store(l.cfg)
	a.digest = l.digest
	return a.swapAMHalf(l.am, l.settings.ExternalURL)
}

// Reload re-reads the configuration and rule files. Everything is validated
// first; a bad file keeps the running configuration.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if err := a.load(); err != nil {
		a.reloadOK.Set(0)
		a.logger.Error("reload failed, the running configuration is kept", "err", err)
		return err
	}
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	a.logger.Info("configuration reloaded", "groups", len(a.manager.Groups()))
	return nil
}

// Handler returns the HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Started is closed once Run listens; Addr is then valid.
func (a *App) Started() <-chan struct{} { return a.started }

// Addr returns the address the API listens on, once started.
func (a *App) Addr() string {
	s, _ := a.addr.Load().(string)
	return s
}

// Run serves the API, evaluates the rules and forwards alerts until ctx is
// done, then shuts down in reverse order.
func (a *App) Run(ctx context.Context) error {
	ln, err := a.listen()
	if err != nil {
		_ = a.store.Close()
		return err
	}
	a.addr.Store(ln.Addr().String())
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}

	fwdCtx, stopFwd := context.WithCancel(context.WithoutCancel(ctx))
	evalCtx, stopEval := context.WithCancel(ctx)
	amCtx, stopAM := context.WithCancel(context.WithoutCancel(ctx))
	defer func() { _ = a.store.Close() }()
	a.amMu.Lock()
	a.runCtx = amCtx
	if h := a.am.Load(); h != nil {
		h.start(amCtx)
	}
	a.amMu.Unlock()
	var bg sync.WaitGroup
	for _, run := range []func(context.Context) error{a.silences.Run, a.alerts.Run, a.history.Run} {
		bg.Add(1)
		go func() {
			defer bg.Done()
			_ = run(amCtx)
		}()
	}
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	evalDone := make(chan struct{})
	wg.Add(4)
	go func() {
		defer wg.Done()
		errc <- a.fwd.Run(fwdCtx)
	}()
	go func() {
		defer wg.Done()
		defer close(evalDone)
		errc <- a.manager.Run(evalCtx)
	}()
	go func() {
		defer wg.Done()
		if err := a.serve(srv, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		a.watch(evalCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.watchDatasource(evalCtx)
	}()
	a.ready.Store(true)
	close(a.started)
	a.logger.Info("alertd started", "address", ln.Addr().String(), "groups", len(a.manager.Groups()))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.ready.Store(false)
	a.logger.Info("shutting down")
	// Reverse order: stop evaluating, then deliver what is queued, then
	// stop serving.
	stopEval()
	<-evalDone
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	// The forwarder delivers what is queued, bounded in time, when its
	// context ends.
	stopFwd()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	// Then the Alertmanager half: the flushes under way may finish, for
	// up to DrainTimeout, then the rest end with its context (they are
	// not in the notification log, so they are sent after the next start).
	if h := a.am.Load(); h != nil && h.dispatcher != nil {
		drainCtx, cancelDrain := context.WithTimeout(context.WithoutCancel(ctx), DrainTimeout)
		h.dispatcher.Drain(drainCtx)
		cancelDrain()
	}
	stopAM()
	a.amMu.Lock()
	if h := a.am.Load(); h != nil {
		if err := h.stop(); err != nil {
			a.logger.Error("stopping the routing", "err", err)
		}
	}
	a.amMu.Unlock()
	bg.Wait()
	// The flushes stopped last may have recorded after the history's
	// Run wrote it for the last time.
	if err := a.history.Flush(); err != nil {
		a.logger.Error("notification history write", "err", err)
	}
	return runErr
}

// watch reloads when the configuration file or a rule file changes (or a
// rule glob matches another set of files).
func (a *App) watch(ctx context.Context) {
	if a.o.WatchInterval < 0 {
		return
	}
	t := time.NewTicker(a.o.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.reloadMu.Lock()
		cfg, last := a.cfg.Load(), a.digest
		a.reloadMu.Unlock()
		files, err := rules.Files(filepath.Dir(a.o.ConfigFile), cfg.RuleFiles)
		if err != nil {
			continue
		}
		if d := digest(watched(a.o.ConfigFile, cfg, files)); d != last {
			a.logger.Info("configuration or rule files changed, reloading")
			if a.Reload() != nil {
				// Keep the bad digest so the same bad files are not
				// reloaded again and again.
				a.reloadMu.Lock()
				a.digest = d
				a.reloadMu.Unlock()
			}
		}
	}
}

// watched returns the files whose change reloads the configuration: the
// configuration file, the rule files and the notification templates.
func watched(configFile string, cfg *config.Config, ruleFiles []string) []string {
	files := append([]string{configFile}, ruleFiles...)
	if cfg.Alertmanager != nil {
		for _, g := range cfg.Alertmanager.Templates {
			m, err := filepath.Glob(g)
			if err == nil {
				files = append(files, m...)
			}
		}
	}
	return files
}

// digest hashes the names and contents of files.
func digest(files []string) [32]byte {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		h.Write([]byte(f + "\x00" + strconv.Itoa(len(b)) + "\x00"))
		if err == nil {
			h.Write(b)
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
