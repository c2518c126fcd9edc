package config_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/alertd/alertd/config"
)

// configDoc is the configuration reference these tests hold to the code.
const configDoc = "../docs/configuration.md"

// TestConfigurationDocMatchesStructs fails when a key of alertd.yml that
// alertd reads itself is missing from the reference table of
// docs/configuration.md, or when the table documents a key that no longer
// exists: the keys come from the yaml tags of config.Config and the
// structs it nests.
func TestConfigurationDocMatchesStructs(t *testing.T) {
	doc := readDoc(t)
	documented := referenceKeys(t, doc)
	code := map[string]bool{}
	cfg := reflect.TypeFor[config.Config]()
	yamlKeys(cfg, "", cfg.PkgPath(), code)
	if len(code) < 15 {
		t.Fatalf("found only %d keys in config.Config: %v", len(code), code)
	}
	amGlobal := map[string]bool{}
	for _, k := range tagNames(reflect.TypeFor[amconfig.GlobalConfig]()) {
		amGlobal["global."+k] = true
	}

	for _, k := range sortedKeys(code) {
		if !documented[k] {
			t.Errorf("%s: key %q of alertd.yml is not in the reference table (## Reference)", configDoc, k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !code[k] && !amGlobal[k] {
			t.Errorf("%s: the reference table documents %q, which alertd.yml does not have", configDoc, k)
		}
	}
}

// TestConfigurationDocNamesAlertmanagerKeys checks that every key of
// Alertmanager's global section and every receiver kind is named in
// docs/configuration.md: the supported ones documented, the others listed
// as accepted-and-unused (global) or refused (receivers).
func TestConfigurationDocNamesAlertmanagerKeys(t *testing.T) {
	doc := readDoc(t)
	for _, k := range tagNames(reflect.TypeFor[amconfig.GlobalConfig]()) {
		if !strings.Contains(doc, "`global."+k+"`") && !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("%s: Alertmanager's global key %q is not named", configDoc, k)
		}
	}
	for _, k := range tagNames(reflect.TypeFor[amconfig.Receiver]()) {
		if strings.HasSuffix(k, "_configs") && !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("%s: receiver kind %q is not named (supported or refused)", configDoc, k)
		}
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	keyPath    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\[\])?(\.[a-z][a-z0-9_]*(\[\])?)*$`)
)

// referenceKeys returns the keys in the first column of the tables under
// the "## Reference" heading: every backticked key path in that cell.
func referenceKeys(t *testing.T, doc string) map[string]bool {
	t.Helper()
	_, ref, ok := strings.Cut(doc, "\n## Reference\n")
	if !ok {
		t.Fatalf("%s has no \"## Reference\" section", configDoc)
	}
	if i := strings.Index(ref, "\n## "); i >= 0 {
		ref = ref[:i]
	}
	keys := map[string]bool{}
	for line := range strings.SplitSeq(ref, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
			if !keyPath.MatchString(m[1]) {
				t.Errorf("%s: %q in the reference table is not a key path", configDoc, m[1])
				continue
			}
			keys[m[1]] = true
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no keys in the reference table", configDoc)
	}
	return keys
}

// yamlKeys adds the key paths of the struct type typ to keys: a nested
// struct of alertd's own config package (own) is walked ("a.b", "a[].b"), a
// struct of another module (prometheus/common's http_config) is one key,
// and an inline struct adds its keys at the same level (how
// alertmanagers[] takes prometheus/common's HTTP client keys).
// Alertmanager's global keys, inlined as a map, are checked apart.
func yamlKeys(typ reflect.Type, prefix, own string, keys map[string]bool) {
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if strings.Contains(","+opts+",", ",inline,") {
			if ft.Kind() == reflect.Struct {
				yamlKeys(ft, prefix, own, keys)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := prefix + name
		elem, list := ft, ""
		if ft.Kind() == reflect.Slice {
			elem, list = ft.Elem(), "[]"
			for elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
		}
		if elem.Kind() == reflect.Struct && elem.PkgPath() == own {
			yamlKeys(elem, path+list+".", own, keys)
			continue
		}
		keys[path] = true
	}
}

// tagNames returns the yaml key names of a struct type's fields.
func tagNames(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
