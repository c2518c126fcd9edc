package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// versionString is what --version prints, in Prometheus's format. A
// release build sets the version with -ldflags
// "-X github.com/prometheus/common/version.Version=…"; without it, the
// module version Go recorded is used: the tag for `go install
// …/cmd/alertd@v1.2.3` or @latest, a pseudo-version or "(devel)" for a
// build from a checkout. prometheus/common fills in the revision and
// whether the tree was modified from the VCS information Go records.
func versionString() string {
	if version.Version == "" {
		version.Version = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version.Version = bi.Main.Version
		}
	}
	return version.Print("alertd")
}
