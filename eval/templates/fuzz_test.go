package templates

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"
)

// FuzzExecute checks that for any template text, Compile and Execute agree
// with Prometheus, and the fast path with text/template.
func FuzzExecute(f *testing.F) {
	seeds := append([]string{
		"", "x", "{{ $labels.job }}", "{{ $labels.fuzz | humanize }}", "{{ $value | humanizeDuration }}",
		`{{ printf "%s %.3f" $labels.fuzz $value }}`, `{{ $labels.fuzz | reReplaceAll "(a+)" "<$1>" | toUpper }}`,
		"{{ $labels.fuzz | stripDomain }}", "{{ $labels.fuzz | title }}", "{{ $labels.fuzz | humanizeTimestamp }}",
		`{{ with query "scalar" }}{{ . | first | value | humanize }}{{ end }}`, "{{ .Value | toLower }}",
		"a {{- $value -}} b", "{{ $labels.fuzz | urlQueryEscape | tableLink }}", "{{ (humanize $value) | printf `%q` }}",
	}, valueTemplates...)
	for _, s := range seeds {
		f.Add(s, 1234567.891, "h1.example.com:9100")
		f.Add(s, -0.00042, "1e3")
	}
	pointer := regexp.MustCompile(`0x[0-9a-f]{6,}`)
	f.Fuzz(func(t *testing.T, text string, v float64, fuzzLabel string) {
		// range can loop for as long as it likes.
		if strings.Contains(text, "range") {
			t.Skip()
		}
		env := testEnv(context.Background())
		d := testData(v)
		d.Labels = labels.NewBuilder(d.Labels).Set("fuzz", fuzzLabel).Labels()

		wantOut, wantErr := prometheusExpand(t, text, env, d)
		want := toResult(wantOut, wantErr)
		tmpl, err := Compile(testName, text)
		if err != nil {
			if diff := cmp.Diff(want, result{Err: err.Error()}); diff != "" {
				t.Fatalf("Compile(%q) (-prometheus +ours):\n%s", text, diff)
			}
			return
		}
		out, err := tmpl.Execute(nil, env, d)
		got := toResult(string(out), err)
		if diff := cmp.Diff(want, got); diff != "" {
			// Printed pointers differ between any two executions.
			if pointer.MatchString(want.Out+want.Err) || pointer.MatchString(got.Out+got.Err) {
				t.Skip()
			}
			t.Fatalf("Execute(%q) (-prometheus +ours):\n%s", text, diff)
		}
		if tmpl.fast == nil {
			return
		}
		slowOut, slowErr := tmpl.executeSlow(nil, env, d)
		fastOut, ok := tmpl.fast.execute(nil, d)
		switch {
		case ok && slowErr != nil:
			t.Fatalf("fast path of %q returned %q where text/template fails: %v", text, fastOut, slowErr)
		case !ok && slowErr == nil:
			t.Fatalf("fast path of %q failed where text/template returns %q", text, slowOut)
		case ok && string(fastOut) != string(slowOut):
			t.Fatalf("fast path of %q = %q, text/template = %q", text, fastOut, slowOut)
		}
		if tmpl.Constant() && string(out) != text {
			t.Fatalf("Constant() but %q expands to %q", text, out)
		}
	})
}
