package unittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFile feeds test files to the parser: it must return a file or an
// error naming the file, never panic.
func FuzzParseFile(f *testing.F) {
	for _, dir := range []string{"testdata/promtool", "testdata/alertd"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		pf, err := parseFile("f.yml", content)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for i := range pf.Tests {
			for _, at := range pf.Tests[i].AlertRuleTests {
				for ni := range at.ExpNotifications {
					_ = at.ExpNotifications[ni].checks()
				}
			}
			for _, pt := range pf.Tests[i].PromqlExprTests {
				for _, s := range pt.ExpSamples {
					_, _ = parseExpSample(s)
				}
			}
		}
	})
}
