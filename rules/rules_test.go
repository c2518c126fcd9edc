package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error, in order
	}{
		{
			name:    "yaml syntax",
			content: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n   labels: {}\n",
			want:    []string{"bad.yml:6: did not find expected key"},
		},
		{
			name:    "unknown field",
			content: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotation: {}\n",
			want:    []string{"bad.yml:6: group \"g\", rule 1, \"A\": field annotation not found"},
		},
		{
			name:    "bad promql",
			content: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n  - alert: B\n    expr: sum(up by)\n",
			want:    []string{"bad.yml:7:11: group \"g\", rule 2, \"B\": could not parse expression"},
		},
		{
			name:    "bad template",
			content: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: '{{ .Labels.x '\n",
			want:    []string{"bad.yml:4: group \"g\", rule 1, \"A\": annotation \"s\": template: __alert_A"},
		},
		{
			name:    "duplicate group",
			content: "groups:\n- name: g\n  rules: []\n- name: h\n  rules: []\n- name: g\n  rules: []\n",
			want:    []string{"bad.yml:6: group \"g\" is repeated in the same file"},
		},
		{
			name:    "duration",
			content: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 1.5m\n",
			want:    []string{"bad.yml:6: ", "1.5m"},
		},
		{
			name:    "no alert or record",
			content: "groups:\n- name: g\n  rules:\n  - expr: up\n",
			want:    []string{"bad.yml:4: group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yml", []byte(tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestParseSchema(t *testing.T) {
	content := `groups:
- name: g
  interval: 30s
  query_offset: 0s
  limit: 10
  labels: {team: a}
  rules:
  - alert: A
    expr: up   ==   0
    for: 5m
    keep_firing_for: 2m
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} down"}
  - record: job:up:sum
    expr: sum by (job) (up)
`
	gs, err := Parse("f.yml", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || len(gs[0].Rules) != 2 {
		t.Fatalf("got %d groups", len(gs))
	}
	g := gs[0]
	if g.Interval != 30*time.Second || g.QueryOffset == nil || *g.QueryOffset != 0 || g.Limit != 10 || g.Labels["team"] != "a" || g.Line != 2 {
		t.Errorf("group fields: %+v", g)
	}
	r := g.Rules[0]
	if r.Expr != "up == 0" || r.For != 5*time.Minute || r.KeepFiringFor != 2*time.Minute || r.Line != 8 {
		t.Errorf("rule fields: %+v", r)
	}
	if g.Rules[1].Record != "job:up:sum" || g.Rules[1].Line != 14 {
		t.Errorf("recording rule: %+v", g.Rules[1])
	}
	if !g.Equal(gs[0]) {
		t.Error("group not equal to itself")
	}
	gs2, _ := Parse("f.yml", []byte(strings.Replace(content, "for: 5m", "for: 6m", 1)))
	if g.Equal(gs2[0]) {
		t.Error("changed group is equal")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yml", "b.yml", "c.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("groups: []\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Files(dir, []string{"*.yml", "a.yml", "none/*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || filepath.Base(got[0]) != "a.yml" || filepath.Base(got[1]) != "b.yml" {
		t.Errorf("got %v", got)
	}
	if _, err := Files(dir, []string{"[x"}); err == nil {
		t.Error("bad pattern accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n"))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(up)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := Parse("fuzz.yml", b)
		if err != nil && gs != nil {
			t.Fatal("groups returned with an error")
		}
	})
}
