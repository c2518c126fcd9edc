// Package golden compares test output with golden files. Setting
// ALERTD_UPDATE_GOLDEN=1 rewrites the files instead (the house switch: a
// package-level -update flag would clash between test files of a package).
package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Updating reports whether golden files are to be rewritten.
func Updating() bool { return os.Getenv("ALERTD_UPDATE_GOLDEN") == "1" }

// Check fails t unless got equals the content of the file at path, showing
// the difference; when Updating, it writes got to path instead.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (ALERTD_UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; ALERTD_UPDATE_GOLDEN=1 rewrites it):\n%s", path, diff)
	}
}
