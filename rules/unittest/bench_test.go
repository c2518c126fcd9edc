package unittest

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/alertd/alertd/internal/testenv"
)

// BenchmarkCorpus measures one run over the whole differential corpus (all
// files in one invocation, as a CI job runs them): promtool test rules as a
// process, alertd test rules as a process (built from ../../cmd/alertd),
// and alertd in process (the package alone, without process start). The
// files that fail do so in both.
//
//	go test -run '^$' -bench Corpus -benchtime 20x ./rules/unittest/
func BenchmarkCorpus(b *testing.B) {
	files := corpusFiles(b)
	promtool := testenv.Binary(b, "promtool")
	alertd := filepath.Join(b.TempDir(), "alertd")
	build := exec.CommandContext(b.Context(), "go", "build", "-o", alertd, "../../cmd/alertd")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build alertd: %v\n%s", err, out)
	}
	process := func(b *testing.B, bin string) {
		b.Helper()
		args := append([]string{"test", "rules"}, files...)
		for b.Loop() {
			err := exec.CommandContext(b.Context(), bin, args...).Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				b.Fatalf("%s: %v, want exit code 1 (the corpus has failing files)", bin, err)
			}
		}
	}
	b.Run("runner=promtool", func(b *testing.B) { process(b, promtool) })
	b.Run("runner=alertd", func(b *testing.B) { process(b, alertd) })
	b.Run("runner=alertd-in-process", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if code := Run(b.Context(), Options{}, files...); code != 1 {
				b.Fatalf("exit code %d, want 1 (the corpus has failing files)", code)
			}
		}
	})
}
