package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// Defaults of the evaluation keys, as in Prometheus.
const (
	DefaultEvaluationInterval = time.Minute
	DefaultResendDelay        = time.Minute
	DefaultDatasourceTimeout  = 30 * time.Second
	DefaultAlertmanagerTimout = 10 * time.Second
)

// Config is alertd.yml.
type Config struct {
	Global        GlobalConfig          `yaml:"global"`
	Datasource    DatasourceConfig      `yaml:"datasource"`
	RuleFiles     []string              `yaml:"rule_files,omitempty"`
	Alertmanagers []*AlertmanagerConfig `yaml:"alertmanagers,omitempty"`

	// Alertmanager's keys: read here only so that they are not unknown;
	// Alertmanager's own loader reads them into Alertmanager.
	Route             any `yaml:"route,omitempty"`
	Receivers         any `yaml:"receivers,omitempty"`
	InhibitRules      any `yaml:"inhibit_rules,omitempty"`
	Templates         any `yaml:"templates,omitempty"`
	TimeIntervals     any `yaml:"time_intervals,omitempty"`
	MuteTimeIntervals any `yaml:"mute_time_intervals,omitempty"`

	// Alertmanager is the routing half of the file (route, receivers,
	// inhibit_rules, time intervals, templates and Alertmanager's global
	// keys), loaded and validated by Alertmanager's config package; nil when
	// the file has no routing.
	Alertmanager *amconfig.Config `yaml:"-"`

	alertmanagerYAML string

	// File is the path the configuration was loaded from; relative rule
	// file patterns are taken relative to its directory.
	File string `yaml:"-"`
}

// GlobalConfig holds the evaluation defaults.
type GlobalConfig struct {
	EvaluationInterval model.Duration    `yaml:"evaluation_interval"`
	QueryOffset        model.Duration    `yaml:"query_offset"`
	ResendDelay        model.Duration    `yaml:"resend_delay"`
	ExternalURL        string            `yaml:"external_url,omitempty"`
	ExternalLabels     map[string]string `yaml:"external_labels,omitempty"`

	// Alertmanager's global keys (resolve_timeout, smtp_*, http_config, …),
	// checked by Alertmanager's loader.
	AlertmanagerKeys map[string]any `yaml:",inline"`
}

// DatasourceConfig is the remote Prometheus-compatible query API.
type DatasourceConfig struct {
	URL        string                     `yaml:"url"`
	Timeout    model.Duration             `yaml:"timeout"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	Headers    map[string]string          `yaml:"headers,omitempty"`
	// DownAlertAfter is how long queries must have failed (no answer,
	// 5xx, timeouts) before alertd raises AlertdDatasourceDown through
	// its own route; 0 never raises it.
	DownAlertAfter model.Duration `yaml:"down_alert_after"`
}

// DefaultDownAlertAfter is the default of datasource.down_alert_after.
const DefaultDownAlertAfter = 5 * time.Minute

// AlertmanagerConfig is one set of Alertmanagers to forward raw alerts to,
// in the shape of Prometheus's alerting.alertmanagers entries with static
// targets, so that block can be pasted unchanged.
type AlertmanagerConfig struct {
	StaticConfigs    []StaticConfig             `yaml:"static_configs"`
	Scheme           string                     `yaml:"scheme"`
	PathPrefix       string                     `yaml:"path_prefix,omitempty"`
	Timeout          model.Duration             `yaml:"timeout"`
	APIVersion       string                     `yaml:"api_version"`
	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
}

// StaticConfig lists Alertmanager addresses (host:port).
type StaticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty"`
}

// URLs returns the base URL of every target.
func (a *AlertmanagerConfig) URLs() []string {
	var out []string
	for _, sc := range a.StaticConfigs {
		for _, t := range sc.Targets {
			out = append(out, a.Scheme+"://"+t+a.PathPrefix)
		}
	}
	return out
}

// UnmarshalYAML sets the defaults.
func (g *GlobalConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plainGlobal GlobalConfig
	*g = GlobalConfig{
		EvaluationInterval: model.Duration(DefaultEvaluationInterval),
		ResendDelay:        model.Duration(DefaultResendDelay),
	}
	return unmarshal((*plainGlobal)(g))
}

// UnmarshalYAML sets the defaults.
func (d *DatasourceConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plainDatasource DatasourceConfig
	*d = DatasourceConfig{Timeout: model.Duration(DefaultDatasourceTimeout), HTTPConfig: commoncfg.DefaultHTTPClientConfig, DownAlertAfter: model.Duration(DefaultDownAlertAfter)}
	return unmarshal((*plainDatasource)(d))
}

// UnmarshalYAML sets the defaults.
func (a *AlertmanagerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plainAlertmanager AlertmanagerConfig
	*a = AlertmanagerConfig{
		Scheme:           "http",
		Timeout:          model.Duration(DefaultAlertmanagerTimout),
		APIVersion:       "v2",
		HTTPClientConfig: commoncfg.DefaultHTTPClientConfig,
	}
	return unmarshal((*plainAlertmanager)(a))
}

// LoadFile reads, parses and validates a configuration file.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	c, err := Load(b, filepath.Dir(path))
	if err != nil {
		return nil, prefixFile(path, err)
	}
	c.File = path
	return c, nil
}

// Load parses and validates configuration text; dir resolves relative
// file references (CA files, password files).
func Load(b []byte, dir string) (*Config, error) {
	c := &Config{}
	c.Global.EvaluationInterval = model.Duration(DefaultEvaluationInterval)
	c.Global.ResendDelay = model.Duration(DefaultResendDelay)
	c.Datasource.Timeout = model.Duration(DefaultDatasourceTimeout)
	c.Datasource.HTTPConfig = commoncfg.DefaultHTTPClientConfig
	c.Datasource.DownAlertAfter = model.Duration(DefaultDownAlertAfter)
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, yamlError(err)
	}
	// An open but empty global block ("global:" with nothing under it) is
	// null, which zeroes it: restore its defaults, as Prometheus and
	// Alertmanager do.
	if reflect.ValueOf(c.Global).IsZero() {
		c.Global.EvaluationInterval = model.Duration(DefaultEvaluationInterval)
		c.Global.ResendDelay = model.Duration(DefaultResendDelay)
	}
	// Likewise an empty datasource block.
	if reflect.ValueOf(c.Datasource).IsZero() {
		c.Datasource.Timeout = model.Duration(DefaultDatasourceTimeout)
		c.Datasource.HTTPConfig = commoncfg.DefaultHTTPClientConfig
		c.Datasource.DownAlertAfter = model.Duration(DefaultDownAlertAfter)
	}
	am, amYAML, err := loadAlertmanager(b, dir)
	if err != nil {
		return nil, err
	}
	c.Alertmanager, c.alertmanagerYAML = am, amYAML
	if dir != "" {
		c.Datasource.HTTPConfig.SetDirectory(dir)
		for _, am := range c.Alertmanagers {
			am.HTTPClientConfig.SetDirectory(dir)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	var errs []error
	g := &c.Global
	if g.EvaluationInterval <= 0 {
		errs = append(errs, errors.New("global.evaluation_interval: must be greater than 0"))
	}
	if g.ResendDelay <= 0 {
		errs = append(errs, errors.New("global.resend_delay: must be greater than 0"))
	}
	if g.ExternalURL != "" {
		if err := checkURL(g.ExternalURL); err != nil {
			errs = append(errs, fmt.Errorf("global.external_url: %w", err))
		}
	}
	for k, v := range g.ExternalLabels {
		if !model.UTF8Validation.IsValidLabelName(k) || strings.HasPrefix(k, "__") {
			errs = append(errs, fmt.Errorf("global.external_labels: invalid label name %q", k))
		}
		if !model.LabelValue(v).IsValid() || v == "" {
			errs = append(errs, fmt.Errorf("global.external_labels: invalid value %q for label %q", v, k))
		}
	}
	d := &c.Datasource
	switch {
	case d.URL == "" && len(c.RuleFiles) > 0:
		errs = append(errs, errors.New("datasource.url: required to evaluate rule_files"))
	case d.URL == "" && c.Alertmanager == nil:
		errs = append(errs, errors.New("datasource.url: required (or a route, to run as an Alertmanager only)"))
	case d.URL == "":
	default:
		if err := checkURL(d.URL); err != nil {
			errs = append(errs, fmt.Errorf("datasource.url: %w", err))
		}
	}
	if d.Timeout <= 0 {
		errs = append(errs, errors.New("datasource.timeout: must be greater than 0"))
	}
	if err := d.HTTPConfig.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("datasource.http_config: %w", err))
	}
	for i, p := range c.RuleFiles {
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("rule_files[%d]: bad pattern %q: %w", i, p, err))
		}
	}
	for i, am := range c.Alertmanagers {
		where := fmt.Sprintf("alertmanagers[%d]", i)
		if am == nil {
			errs = append(errs, fmt.Errorf("%s: empty or null section", where))
			continue
		}
		if am.Scheme != "http" && am.Scheme != "https" {
			errs = append(errs, fmt.Errorf("%s.scheme: %q is not http or https", where, am.Scheme))
		}
		if am.APIVersion != "v2" {
			errs = append(errs, fmt.Errorf("%s.api_version: %q is not supported, only v2", where, am.APIVersion))
		}
		if am.Timeout <= 0 {
			errs = append(errs, fmt.Errorf("%s.timeout: must be greater than 0", where))
		}
		if len(am.URLs()) == 0 {
			errs = append(errs, fmt.Errorf("%s.static_configs: no targets", where))
		}
		for _, sc := range am.StaticConfigs {
			for _, t := range sc.Targets {
				if t == "" || strings.Contains(t, "/") {
					errs = append(errs, fmt.Errorf("%s.static_configs: target %q is not host:port", where, t))
				}
			}
		}
		if err := am.HTTPClientConfig.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q", redactURL(s))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", redactURL(s))
	}
	return nil
}

// redactURL hides any password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return "<redacted>@" + s[i+1:]
		}
		return s
	}
	return u.Redacted()
}

// AlertmanagerString returns the routing half as written in alertd.yml,
// in Alertmanager's syntax, with every secret replaced ("<secret>", or
// RedactedURL for URLs that carry secrets): /api/v2/status's
// config.original, which amtool parses with Alertmanager's loader. It is
// the file's own text rather than Alertmanager 0.34's re-marshalled form,
// whose newer fields Alertmanager 0.25's amtool rejects. "" when there is
// no routing.
func (c *Config) AlertmanagerString() string { return c.alertmanagerYAML }

// String returns alertd's own keys as YAML with secrets hidden.
func (c *Config) String() string {
	own := *c
	own.Route, own.Receivers, own.InhibitRules, own.Templates, own.TimeIntervals, own.MuteTimeIntervals = nil, nil, nil, nil, nil, nil
	own.Global.AlertmanagerKeys = nil
	b, err := yaml.Marshal(&own)
	if err != nil {
		return fmt.Sprintf("<error creating config string: %s>", err)
	}
	s := string(b)
	// Secrets of prometheus/common marshal as <secret>; the datasource URL
	// may carry a password of its own.
	if c.Datasource.URL != "" {
		s = strings.ReplaceAll(s, c.Datasource.URL, redactURL(c.Datasource.URL))
	}
	return s
}

var (
	yamlLine    = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
	unknownKey  = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	sectionName = map[string]string{
		"config.plain":              "the top level",
		"config.Config":             "the top level",
		"config.GlobalConfig":       "global",
		"config.DatasourceConfig":   "datasource",
		"config.AlertmanagerConfig": "alertmanagers",
		"config.StaticConfig":       "static_configs",
		"config.HTTPClientConfig":   "http_config",
		"config.BasicAuth":          "basic_auth",
		"config.Authorization":      "authorization",
		"config.TLSConfig":          "tls_config",
		"config.OAuth2":             "oauth2",
		"config.ProxyConfig":        "proxy",
		"config.plainGlobal":        "global",
		"config.plainDatasource":    "datasource",
		"config.plainAlertmanager":  "alertmanagers",
	}
)

// LineError is a configuration error at a line of the file.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		s := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(s); m != nil {
			l, _ := strconv.Atoi(m[1])
			return &LineError{Line: l, Msg: m[2]}
		}
		return errors.New(s)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, s := range te.Errors {
		m := yamlLine.FindStringSubmatch(s)
		if m == nil {
			errs = append(errs, errors.New(strings.TrimSpace(s)))
			continue
		}
		l, _ := strconv.Atoi(m[1])
		msg := m[2]
		if k := unknownKey.FindStringSubmatch(msg); k != nil {
			where := sectionName[k[2]]
			if where == "" {
				where = strings.TrimPrefix(k[2], "config.")
			}
			msg = fmt.Sprintf("unknown key %q in %s", k[1], where)
		}
		errs = append(errs, &LineError{Line: l, Msg: msg})
	}
	return errors.Join(errs...)
}

func prefixFile(path string, err error) error {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			parts = append(parts, fmt.Sprintf("%s:%s: %s", path, m[1], m[2]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s", path, line))
	}
	return fmt.Errorf("%s", strings.Join(parts, "\n"))
}
