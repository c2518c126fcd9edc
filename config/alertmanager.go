package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	yamlv3 "go.yaml.in/yaml/v3"
)

// alertdKeys are the top-level keys of alertd's own; everything else at the
// top level is Alertmanager's.
var alertdKeys = []string{"datasource", "rule_files", "alertmanagers"}

// alertdGlobalKeys are alertd's own keys in global; the rest of global is
// Alertmanager's.
var alertdGlobalKeys = []string{"evaluation_interval", "query_offset", "resend_delay", "external_url", "external_labels"}

// alertmanagerKeys are Alertmanager's top-level keys.
var alertmanagerKeys = []string{"route", "receivers", "inhibit_rules", "templates", "time_intervals", "mute_time_intervals"}

// alertmanagerPart returns the Alertmanager half of alertd.yml: the text
// with alertd's own keys blanked out line by line, so Alertmanager's errors
// keep their line numbers. ok is false when the file has no routing at all.
func alertmanagerPart(b []byte) (text string, ok bool, err error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		return "", false, err
	}
	root := doc.Content[0]
	if root.Kind != yamlv3.MappingNode {
		return "", false, nil
	}
	lines := strings.Split(string(b), "\n")
	blank := func(from, to int) { // 1-based, inclusive
		for i := from; i <= to && i <= len(lines); i++ {
			lines[i-1] = ""
		}
	}
	// end returns the last line of the value of the pair at index i of
	// mapping m, whose parent value ends at line parentEnd.
	end := func(m *yamlv3.Node, i, parentEnd int) int {
		if i+2 < len(m.Content) {
			return m.Content[i+2].Line - 1
		}
		return parentEnd
	}
	hasAM, amGlobal := false, false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case slices.Contains(alertdKeys, k.Value):
			if root.Style&yamlv3.FlowStyle != 0 {
				return "", false, fmt.Errorf("write alertd.yml in block style to mix alertd's and Alertmanager's keys")
			}
			blank(k.Line, end(root, i, len(lines)))
		case k.Value == "global":
			if v.Kind != yamlv3.MappingNode {
				continue
			}
			globalEnd := end(root, i, len(lines))
			var own, theirs int
			for j := 0; j+1 < len(v.Content); j += 2 {
				if slices.Contains(alertdGlobalKeys, v.Content[j].Value) {
					own++
				} else {
					theirs++
				}
			}
			switch {
			case theirs == 0:
				blank(k.Line, globalEnd)
			case own > 0 && v.Style&yamlv3.FlowStyle != 0:
				return "", false, fmt.Errorf("line %d: write global in block style to mix alertd's and Alertmanager's keys", k.Line)
			default:
				amGlobal = true
				for j := 0; j+1 < len(v.Content); j += 2 {
					if slices.Contains(alertdGlobalKeys, v.Content[j].Value) {
						blank(v.Content[j].Line, end(v, j, globalEnd))
					}
				}
			}
		case slices.Contains(alertmanagerKeys, k.Value):
			hasAM = true
		}
	}
	if !hasAM && !amGlobal {
		return "", false, nil
	}
	return strings.Join(lines, "\n"), true, nil
}

// secretKeys hold secrets wherever they appear in Alertmanager's schema.
var secretKeys = []string{
	"password", "auth_password", "auth_secret", "smtp_auth_password", "smtp_auth_secret",
	"api_key", "opsgenie_api_key", "victorops_api_key", "service_key", "routing_key",
	"token", "bot_token", "app_token", "telegram_bot_token", "credentials", "bearer_token",
	"client_secret", "api_secret", "wechat_api_secret", "secret",
}

// secretURLKeys hold URLs that carry secrets (webhook paths, Slack
// hooks). They are replaced by a placeholder that is still a URL, so that
// Alertmanager 0.25's amtool, which parses config.original, accepts it.
var secretURLKeys = []string{"url", "api_url", "webhook_url", "slack_api_url"}

// RedactedURL replaces secret URLs in AlertmanagerYAML.
const RedactedURL = "https://redacted.invalid/"

// redactAlertmanagerYAML returns the routing half as written, with every
// secret replaced: the config.original that /api/v2/status shows.
func redactAlertmanagerYAML(text string) string {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal([]byte(text), &doc); err != nil {
		return ""
	}
	var walk func(n *yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		switch n.Kind {
		case yamlv3.DocumentNode, yamlv3.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch {
				case v.Kind == yamlv3.ScalarNode && v.Value != "" && slices.Contains(secretKeys, k.Value):
					v.Value, v.Tag, v.Style = "<secret>", "!!str", 0
				case v.Kind == yamlv3.ScalarNode && v.Value != "" && slices.Contains(secretURLKeys, k.Value):
					v.Value, v.Tag, v.Style = RedactedURL, "!!str", 0
				default:
					walk(v)
				}
			}
		}
	}
	walk(&doc)
	b, err := yamlv3.Marshal(&doc)
	if err != nil {
		return ""
	}
	return string(b)
}

// loadAlertmanager loads the Alertmanager half with Alertmanager's own
// loader: its schema, defaults and validation. Relative file references
// are taken relative to dir, as Alertmanager's LoadFile does.
func loadAlertmanager(b []byte, dir string) (*amconfig.Config, string, error) {
	text, ok, err := alertmanagerPart(b)
	if err != nil || !ok {
		return nil, "", err
	}
	c, err := loadAlertmanagerText(text)
	if err != nil {
		return nil, "", alertmanagerError(err)
	}
	if dir != "" {
		for i, t := range c.Templates {
			if t != "" && !filepath.IsAbs(t) {
				c.Templates[i] = filepath.Join(dir, t)
			}
		}
		if c.Global != nil && c.Global.HTTPConfig != nil {
			c.Global.HTTPConfig.SetDirectory(dir)
		}
		for _, r := range c.Receivers {
			for _, w := range r.WebhookConfigs {
				if w.HTTPConfig != nil {
					w.HTTPConfig.SetDirectory(dir)
				}
				if w.URLFile != "" && !filepath.IsAbs(w.URLFile) {
					w.URLFile = filepath.Join(dir, w.URLFile)
				}
			}
		}
	}
	return c, redactAlertmanagerYAML(text), nil
}

// loadAlertmanagerText is amconfig.Load, with its panics returned as
// errors: it dereferences nil on an empty entry in a list of routes
// ("routes: [null]", or a lone "-").
func loadAlertmanagerText(text string) (c *amconfig.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("invalid routing configuration (Alertmanager's loader panics: %v); look for an empty list entry", r)
		}
	}()
	return amconfig.Load(text)
}

// alertmanagerError rewrites Alertmanager's YAML errors ("line 7: field x
// not found in type config.plain") in alertd's words; its other errors
// name the route, receiver or field already.
func alertmanagerError(err error) error {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "yaml: unmarshal errors:"))
		if line == "" {
			continue
		}
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			msg := m[2]
			if k := unknownKey.FindStringSubmatch(msg); k != nil {
				msg = fmt.Sprintf("unknown key %q", k[1])
			}
			parts = append(parts, "line "+m[1]+": "+msg)
			continue
		}
		parts = append(parts, line)
	}
	return errors.New(strings.Join(parts, "\n"))
}
