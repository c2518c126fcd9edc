package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/internal/testenv"
)

// amtool runs the real amtool (Debian's prometheus-alertmanager 0.25)
// against e's server, with a HOME of its own so that no amtool config file
// of the machine applies. It fails the test unless amtool exits 0.
type amtool struct {
	t    *testing.T
	bin  string
	url  string
	home string
}

func newAmtool(t *testing.T, e *env) *amtool {
	t.Helper()
	return &amtool{t: t, bin: testenv.Binary(t, "amtool"), url: e.srv.URL, home: t.TempDir()}
}

func (a *amtool) run(args ...string) string {
	a.t.Helper()
	out, errOut, err := a.exec(args...)
	if err != nil {
		a.t.Fatalf("amtool %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (a *amtool) exec(args ...string) (string, string, error) {
	a.t.Helper()
	cmd := exec.CommandContext(a.t.Context(), a.bin, append([]string{"--alertmanager.url=" + a.url}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+a.home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// json runs amtool with -o json and decodes its output into v.
func (a *amtool) json(v any, args ...string) {
	a.t.Helper()
	out := a.run(append([]string{"-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("amtool %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (a *amtool) silences(args ...string) models.GettableSilences {
	a.t.Helper()
	var sils models.GettableSilences
	a.json(&sils, append([]string{"silence", "query"}, args...)...)
	return sils
}

func (a *amtool) alerts(args ...string) models.GettableAlerts {
	a.t.Helper()
	var as models.GettableAlerts
	a.json(&as, append([]string{"alert", "query"}, args...)...)
	return as
}

func alertnames(as models.GettableAlerts) []string {
	var names []string
	for _, a := range as {
		names = append(names, a.Labels["alertname"])
	}
	slices.Sort(names)
	return names
}

func matcherStrings(ms models.Matchers) []string {
	var out []string
	for _, m := range ms {
		op := "="
		switch {
		case !*m.IsRegex && m.IsEqual != nil && !*m.IsEqual:
			op = "!="
		case *m.IsRegex && (m.IsEqual == nil || *m.IsEqual):
			op = "=~"
		case *m.IsRegex:
			op = "!~"
		}
		out = append(out, *m.Name+op+*m.Value)
	}
	return out
}

// TestAmtoolSilences drives the silence commands of the real amtool.
func TestAmtoolSilences(t *testing.T) {
	e := newEnv(t, time.Now)
	am := newAmtool(t, e)

	id := strings.TrimSpace(am.run("silence", "add", "alertname=X", "-c", "planned work", "-a", "me", "-d", "1h"))
	if id == "" {
		t.Fatal("silence add printed no ID")
	}
	sils := am.silences()
	if len(sils) != 1 {
		t.Fatalf("silence query: %d silences, want 1", len(sils))
	}
	s := sils[0]
	got := []any{*s.ID, matcherStrings(s.Matchers), *s.CreatedBy, *s.Comment, *s.Status.State}
	if diff := cmp.Diff([]any{id, []string{"alertname=X"}, "me", "planned work", "active"}, got); diff != "" {
		t.Errorf("silence query (-want +got):\n%s", diff)
	}
	if d := time.Time(*s.EndsAt).Sub(time.Time(*s.StartsAt)); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
		t.Errorf("silence lasts %v, want 1h", d)
	}

	t.Run("query by matcher", func(t *testing.T) {
		if n := len(am.silences("alertname=X")); n != 1 {
			t.Errorf("silence query alertname=X: %d, want 1", n)
		}
		if n := len(am.silences("alertname=Y")); n != 0 {
			t.Errorf("silence query alertname=Y: %d, want 0", n)
		}
	})

	t.Run("import an export", func(t *testing.T) {
		am.run("silence", "add", `instance=~"a|b"`, "job!=x", "-c", "second", "-a", "you", "-d", "2h")
		export := am.run("-o", "json", "silence", "query")
		file := filepath.Join(t.TempDir(), "silences.json")
		if err := os.WriteFile(file, []byte(export), 0o600); err != nil {
			t.Fatal(err)
		}
		summary := func(sils models.GettableSilences) map[string]int {
			count := map[string]int{}
			for _, s := range sils {
				count[strings.Join(matcherStrings(s.Matchers), ",")+" "+*s.CreatedBy+" "+*s.Comment]++
			}
			return count
		}
		exported := summary(am.silences())

		// Into another server: --force drops the IDs, so they are created.
		other := newAmtool(t, newEnv(t, time.Now))
		other.run("silence", "import", "--force", file)
		want := map[string]int{"alertname=X me planned work": 1, "instance=~a|b,job!=x you second": 1}
		if diff := cmp.Diff(want, exported); diff != "" {
			t.Errorf("exported silences (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, summary(other.silences())); diff != "" {
			t.Errorf("silences imported into another server (-want +got):\n%s", diff)
		}

		// Into the same server without --force: the IDs are known, and
		// unchanged silences are updated in place.
		am.run("silence", "import", file)
		if diff := cmp.Diff(want, summary(am.silences())); diff != "" {
			t.Errorf("silences re-imported in place (-want +got):\n%s", diff)
		}
	})

	t.Run("update", func(t *testing.T) {
		am.run("silence", "update", id, "-c", "changed")
		got, err := e.silences.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Comment != "changed" {
			t.Errorf("comment after update = %q", got.Comment)
		}
	})

	t.Run("expire", func(t *testing.T) {
		am.run("silence", "expire", id)
		for _, s := range am.silences() {
			if *s.ID == id {
				t.Errorf("expired silence %s still in the default query (non-expired)", id)
			}
		}
		var found bool
		for _, s := range am.silences("--expired") {
			found = found || *s.ID == id
		}
		if !found {
			t.Errorf("expired silence %s not in silence query --expired", id)
		}
	})

	t.Run("expire unknown", func(t *testing.T) {
		_, errOut, err := am.exec("silence", "expire", "4a6bd0e4-5d4e-4ac4-9a5e-1b0d1c3b9f00")
		if err == nil {
			t.Errorf("expiring an unknown silence succeeded")
		}
		// Alertmanager 0.27+ answers 404, which amtool 0.25's client
		// (written when Alertmanager answered 500) reports by status.
		if !strings.Contains(errOut, "404") {
			t.Errorf("stderr does not report the 404:\n%s", errOut)
		}
	})

	t.Run("bad silence", func(t *testing.T) {
		_, errOut, err := am.exec("silence", "add", `alertname=~".*"`, "-c", "c", "-a", "me")
		if err == nil {
			t.Fatal("a silence whose matchers all match the empty string was accepted")
		}
		if !strings.Contains(errOut, "at least one matcher must not match the empty string") {
			t.Errorf("stderr does not carry the API's message:\n%s", errOut)
		}
	})
}

// TestAmtoolAlerts drives the alert commands of the real amtool.
func TestAmtoolAlerts(t *testing.T) {
	e := newEnv(t, time.Now)
	am := newAmtool(t, e)

	am.run("alert", "add", "alertname=Plain", "severity=page", "--annotation=summary=hello")
	am.run("alert", "add", "Inhibited", "inhibited=true")
	am.run("alert", "add", "alertname=Silenced", "team=a")
	stored := e.store.get(labels.FromStrings("alertname", "Plain", "severity", "page"))
	if stored == nil {
		t.Fatal("alert add: alert not stored")
	}
	if got := stored.Annotations.Get("summary"); got != "hello" {
		t.Errorf("stored annotation summary = %q", got)
	}
	am.run("silence", "add", "alertname=Silenced", "-c", "c", "-a", "me")

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default: active only", nil, []string{"Plain"}},
		{"--silenced", []string{"--silenced"}, []string{"Silenced"}},
		{"--inhibited", []string{"--inhibited"}, []string{"Inhibited"}},
		{"--active --silenced --inhibited", []string{"--active", "--silenced", "--inhibited"}, []string{"Inhibited", "Plain", "Silenced"}},
		{"matcher", []string{"--silenced", "--active", "team=a"}, []string{"Silenced"}},
		{"alertname shorthand", []string{"Plain"}, []string{"Plain"}},
		{"receiver", []string{"--silenced", "--active", "--receiver=team-a"}, []string{"Silenced"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, alertnames(am.alerts(tc.args...))); diff != "" {
				t.Errorf("alert query %v (-want +got):\n%s", tc.args, diff)
			}
		})
	}

	t.Run("silenced alert carries the silence", func(t *testing.T) {
		as := am.alerts("--silenced")
		sils := am.silences()
		if len(as) != 1 || len(sils) != 1 {
			t.Fatalf("%d alerts, %d silences", len(as), len(sils))
		}
		if diff := cmp.Diff([]string{*sils[0].ID}, as[0].Status.SilencedBy); diff != "" {
			t.Errorf("silencedBy (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"team-a", "default"}, []string{*as[0].Receivers[0].Name, *as[0].Receivers[1].Name}); diff != "" {
			t.Errorf("receivers (-want +got):\n%s", diff)
		}
	})

	t.Run("simple output", func(t *testing.T) {
		out := am.run("alert", "query")
		if !strings.Contains(out, "Plain") || !strings.Contains(out, "hello") {
			t.Errorf("alert query output lacks the alert:\n%s", out)
		}
	})
}

// TestAmtoolStatus checks amtool's commands that read /api/v2/status.
func TestAmtoolStatus(t *testing.T) {
	e := newEnv(t, time.Now)
	am := newAmtool(t, e)
	t.Run("config show", func(t *testing.T) {
		out := am.run("config", "show")
		for _, want := range []string{"receiver: default", "team-a", "resolve_timeout: 5m"} {
			if !strings.Contains(out, want) {
				t.Errorf("config show lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("config routes", func(t *testing.T) {
		out := am.run("config", "routes")
		if !strings.Contains(out, "team-a") {
			t.Errorf("config routes lacks team-a:\n%s", out)
		}
	})
	t.Run("config routes test", func(t *testing.T) {
		out := strings.TrimSpace(am.run("config", "routes", "test", "team=a"))
		if out != "team-a,default" {
			t.Errorf("config routes test team=a = %q, want team-a,default", out)
		}
	})
	t.Run("cluster show", func(t *testing.T) {
		out := am.run("cluster", "show")
		if !strings.Contains(out, "disabled") {
			t.Errorf("cluster show:\n%s", out)
		}
	})
}
