package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amsilence "github.com/prometheus/alertmanager/api/v2/client/silence"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/silences"
)

// dryRunSilencesTimeout bounds the request for a running alertd's
// silences.
const dryRunSilencesTimeout = 30 * time.Second

type dryRunCmd struct {
	configFile  *string
	at          *string
	rule        *string
	alertdURL   *string
	externalURL *string
	output      *string
}

// addDryRunCmd registers "dry-run".
func addDryRunCmd(ka *kingpin.Application, cmds map[string]subcommand) {
	c := ka.Command("dry-run", "Evaluate every alerting rule once against the live datasource and show what would fire, where it would be routed and the exact messages, sending nothing.")
	d := &dryRunCmd{
		configFile:  c.Flag("config.file", "alertd configuration file.").Default("alertd.yml").String(),
		at:          c.Flag("at", "Evaluation time, RFC 3339 (e.g. 2024-05-01T10:00:00Z). Default: now.").Default("").String(),
		rule:        c.Flag("rule", "Only the alerting rules whose name matches this regular expression (anywhere in the name).").Default("").String(),
		alertdURL:   c.Flag("alertd.url", "A running alertd (or Alertmanager) whose silences, from GET /api/v2/silences, may mute the alerts.").Default("").String(),
		externalURL: c.Flag("web.external-url", "The URL alertd is reached at, as for alertd run. Default: global.external_url.").Default("").String(),
		output:      c.Flag("output", "Output format: text or json.").Default("text").Enum("text", "json"),
	}
	cmds[c.FullCommand()] = d.run
}

// run returns 0 when every rule was evaluated, 1 when a rule's query
// failed or nothing could be evaluated.
func (d *dryRunCmd) run(ctx context.Context, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		_, _ = io.WriteString(stderr, "alertd: dry-run: "+err.Error()+"\n")
		return 1
	}
	o := app.DryRunOptions{ConfigFile: *d.configFile, ExternalURL: *d.externalURL}
	if *d.at != "" {
		at, err := time.Parse(time.RFC3339, *d.at)
		if err != nil {
			return fail(fmt.Errorf("--at %q: not an RFC 3339 time", *d.at))
		}
		o.At = at
	}
	if *d.rule != "" {
		re, err := regexp.Compile(*d.rule)
		if err != nil {
			return fail(fmt.Errorf("--rule: %w", err))
		}
		o.Rule = re
	}
	if *d.alertdURL != "" {
		sils, err := dryRunSilences(ctx, *d.alertdURL)
		if err != nil {
			return fail(err)
		}
		o.Silences = sils
	}
	rep, err := app.DryRun(ctx, o)
	if err != nil {
		return fail(err)
	}
	if *d.output == "json" {
		// Not HTML-escaped: bodies show "<" as the receivers get it.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
		_, _ = stdout.Write(buf.Bytes())
	} else {
		_, _ = io.WriteString(stdout, dryRunText(rep))
	}
	if rep.FailedRules > 0 {
		return 1
	}
	return 0
}

// dryRunSilences returns the silences of the alertd or Alertmanager at
// base, with Alertmanager's API client.
func dryRunSilences(ctx context.Context, base string) ([]*silences.Silence, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("--alertd.url: not an http or https URL")
	}
	hc := commoncfg.DefaultHTTPClientConfig
	if u.User != nil {
		pw, _ := u.User.Password()
		hc.BasicAuth = &commoncfg.BasicAuth{Username: u.User.Username(), Password: commoncfg.Secret(pw)}
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	client, err := commoncfg.NewClientFromConfig(hc, "alertd", commoncfg.WithUserAgent(version.ComponentUserAgent("alertd")))
	if err != nil {
		return nil, fmt.Errorf("--alertd.url %s: %w", shown, err)
	}
	defer client.CloseIdleConnections()
	rt := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, amclient.DefaultBasePath), []string{u.Scheme}, client)
	// go-openapi dumps requests, credentials included, when DEBUG is set.
	rt.Debug = false
	ctx, cancel := context.WithTimeout(ctx, dryRunSilencesTimeout)
	defer cancel()
	resp, err := amclient.New(rt, strfmt.Default).Silence.GetSilences(amsilence.NewGetSilencesParamsWithContext(ctx))
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // it quotes the URL, with its userinfo
		}
		return nil, fmt.Errorf("get silences from %s: %w", shown, err)
	}
	var out []*silences.Silence
	for i, gs := range resp.Payload {
		if gs == nil || gs.ID == nil || gs.StartsAt == nil || gs.EndsAt == nil {
			return nil, fmt.Errorf("silences from %s: silence %d lacks an id or times", shown, i)
		}
		s := &silences.Silence{ID: *gs.ID, StartsAt: time.Time(*gs.StartsAt), EndsAt: time.Time(*gs.EndsAt)}
		if gs.CreatedBy != nil {
			s.CreatedBy = *gs.CreatedBy
		}
		if gs.Comment != nil {
			s.Comment = *gs.Comment
		}
		for j, m := range gs.Matchers {
			if m == nil || m.Name == nil || m.Value == nil {
				return nil, fmt.Errorf("silences from %s: silence %s: matcher %d lacks a name or value", shown, s.ID, j)
			}
			isEqual := m.IsEqual == nil || *m.IsEqual // absent means true, as in Alertmanager
			isRegex := m.IsRegex != nil && *m.IsRegex
			t := amlabels.MatchEqual
			switch {
			case isRegex && isEqual:
				t = amlabels.MatchRegexp
			case isRegex:
				t = amlabels.MatchNotRegexp
			case !isEqual:
				t = amlabels.MatchNotEqual
			}
			am, err := amlabels.NewMatcher(t, *m.Name, *m.Value)
			if err != nil {
				return nil, fmt.Errorf("silences from %s: silence %s: matcher %d: %w", shown, s.ID, j, err)
			}
			s.Matchers = append(s.Matchers, am)
		}
		out = append(out, s)
	}
	return out, nil
}

// dryRunText is the report for people: the rules and their alerts, then
// the notifications. JSON bodies are indented; the JSON output has them
// byte for byte.
func dryRunText(rep *app.DryRunReport) string {
	var b strings.Builder
	alerts, firing, pending := 0, 0, 0
	names := map[string]string{} // fingerprint → alertname{labels}
	muted := map[string]string{} // fingerprint → why a firing alert is muted
	for _, r := range rep.Rules {
		for _, a := range r.Alerts {
			switch {
			case len(a.InhibitedBy) > 0 && len(a.SilencedBy) > 0:
				muted[a.Fingerprint] = "inhibited, silenced"
			case len(a.InhibitedBy) > 0:
				muted[a.Fingerprint] = "inhibited"
			case len(a.SilencedBy) > 0:
				muted[a.Fingerprint] = "silenced"
			}
			alerts++
			if a.State == "firing" {
				firing++
			} else {
				pending++
			}
			names[a.Fingerprint] = labels.FromMap(a.Labels).String()
		}
	}
	fmt.Fprintf(&b, "alertd dry-run at %s: %s, %s (%d firing, %d pending), %s",
		dryRunTime(rep.At), dryRunCount(len(rep.Rules), "rule"), dryRunCount(alerts, "alert"), firing, pending,
		dryRunCount(len(rep.Notifications), "notification"))
	if rep.FailedRules > 0 {
		fmt.Fprintf(&b, ", %s failed", dryRunCount(rep.FailedRules, "rule"))
	}
	b.WriteString("\nNothing was sent.\n")

	for _, r := range rep.Rules {
		fmt.Fprintf(&b, "\nrule %s (%s, group %s)\n", r.Name, r.File, r.Group)
		fmt.Fprintf(&b, "  query: %s\n", r.Query)
		fmt.Fprintf(&b, "  for %s, keep_firing_for %s, every %s", r.For, r.KeepFiringFor, r.Interval)
		if r.QueryOffset != 0 {
			fmt.Fprintf(&b, ", query offset %s", r.QueryOffset)
		}
		if r.WindowStart != nil {
			fmt.Fprintf(&b, "; replayed from %s", dryRunTime(*r.WindowStart))
		}
		b.WriteString("\n")
		if r.Error != "" {
			fmt.Fprintf(&b, "  ERROR: %s\n", r.Error)
			continue
		}
		if len(r.Alerts) == 0 {
			b.WriteString("  no alerts\n")
		}
		for _, a := range r.Alerts {
			fmt.Fprintf(&b, "  %s %s\n", strings.ToUpper(a.State), labels.FromMap(a.Labels))
			fmt.Fprintf(&b, "    since %s", dryRunTime(a.Since))
			if a.SinceWindowStart {
				b.WriteString(" (the window's start: it may have held for longer)")
			}
			if a.KeepFiringSince != nil {
				fmt.Fprintf(&b, ", kept firing by keep_firing_for since %s", dryRunTime(*a.KeepFiringSince))
			}
			fmt.Fprintf(&b, ", value %s\n", a.Value)
			if len(a.Annotations) > 0 {
				b.WriteString("    annotations:\n")
				for _, k := range dryRunSortedKeys(a.Annotations) {
					fmt.Fprintf(&b, "      %s: %s\n", k, dryRunIndentRest(a.Annotations[k], "        "))
				}
			}
			if len(a.Routes) == 0 {
				b.WriteString("    routed nowhere\n")
			}
			for _, rt := range a.Routes {
				fmt.Fprintf(&b, "    route %s → receiver %s", rt.Route, rt.Receiver)
				if rt.Notification != nil {
					fmt.Fprintf(&b, ", notification #%d\n", *rt.Notification+1)
				} else {
					b.WriteString(" (not sent while pending)\n")
				}
			}
			if len(a.SilencedBy) > 0 {
				fmt.Fprintf(&b, "    silenced by %s\n", strings.Join(a.SilencedBy, ", "))
			}
			for _, fp := range a.InhibitedBy {
				fmt.Fprintf(&b, "    inhibited by %s\n", dryRunName(names[fp], fp))
			}
		}
	}

	for i, n := range rep.Notifications {
		fmt.Fprintf(&b, "\nnotification #%d → receiver %s, route %s\n", i+1, n.Receiver, n.Route)
		fmt.Fprintf(&b, "  group key %s\n", n.GroupKey)
		b.WriteString("  alerts:\n")
		for _, fp := range n.Alerts {
			state := "sent"
			switch {
			case slices.Contains(n.Sent, fp):
			case muted[fp] != "":
				state = muted[fp]
			default:
				state = "muted by time intervals"
			}
			fmt.Fprintf(&b, "    %s (%s)\n", dryRunName(names[fp], fp), state)
		}
		if n.Muted != "" {
			fmt.Fprintf(&b, "  nothing sent: %s\n", n.Muted)
			continue
		}
		if len(n.Messages) == 0 {
			b.WriteString("  the receiver has no integrations: nothing sent\n")
		}
		for _, m := range n.Messages {
			fmt.Fprintf(&b, "  %s[%d]", m.Integration, m.Index)
			if m.Error != "" {
				fmt.Fprintf(&b, " would fail: %s\n", m.Error)
				continue
			}
			b.WriteString(":\n")
			for _, k := range dryRunFields[m.Integration] {
				if v := m.Fields[k]; v != "" {
					fmt.Fprintf(&b, "    %s: %s\n", k, dryRunIndentRest(v, "      "))
				}
			}
			fmt.Fprintf(&b, "    body (%s):\n", m.ContentType)
			b.WriteString(dryRunIndentAll(dryRunBody(m), "      "))
		}
	}
	return b.String()
}

// dryRunFields are the fields the text output shows before each body.
var dryRunFields = map[string][]string{
	"email":     {"subject", "to"},
	"slack":     {"channel", "title", "pretext", "text"},
	"pagerduty": {"event_action", "severity", "summary"},
	"webhook":   {"status", "alerts"},
}

// dryRunBody is the body for people: JSON indented, CRLF as LF.
func dryRunBody(m app.DryRunMessage) string {
	if m.ContentType == "application/json" {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(m.Body), "", "  ") == nil {
			return buf.String()
		}
	}
	return strings.ReplaceAll(m.Body, "\r\n", "\n")
}

// dryRunCount is "1 rule", "2 rules".
func dryRunCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func dryRunTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func dryRunName(name, fp string) string {
	if name == "" {
		return "alert " + fp
	}
	return name
}

func dryRunSortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// dryRunIndentRest indents the lines of s after the first.
func dryRunIndentRest(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// dryRunIndentAll indents every line of s and ends it with a newline.
func dryRunIndentAll(s, indent string) string {
	return indent + dryRunIndentRest(s, indent) + "\n"
}
