package testenv

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// MissingBinaryError reports that a real component is not installed. Its
// message says how to install it.
type MissingBinaryError struct {
	// Name is the component asked for, e.g. "prometheus-alertmanager".
	Name string
	// Package is the Debian package that provides it, or "" if unknown.
	Package string
}

// Error returns a message that names the component and how to install it.
func (e *MissingBinaryError) Error() string {
	msg := fmt.Sprintf("real component %q not found in PATH or /usr/bin; ", e.Name)
	if e.Package != "" {
		msg += fmt.Sprintf("install it with \"apt-get install -y %s\" (or \"make deps\", or run .ci/run)", e.Package)
	} else {
		msg += "install it and put it on PATH"
	}
	return msg + "; go test -short skips the tests that need it"
}

// debianPackage returns the Debian package that ships the named program, or
// "" if it is not one testenv knows.
func debianPackage(name string) string {
	switch name {
	case "prometheus", "promtool":
		return "prometheus"
	case "prometheus-alertmanager", "alertmanager", "amtool":
		return "prometheus-alertmanager"
	case "vmalert", "victoria-metrics", "vmagent", "vmctl":
		return "victoria-metrics"
	}
	return ""
}

// candidates returns the program names to look for, in order. Debian names
// Alertmanager's binary prometheus-alertmanager; upstream calls it
// alertmanager.
func candidates(name string) []string {
	switch name {
	case "prometheus-alertmanager", "alertmanager":
		return []string{"prometheus-alertmanager", "alertmanager"}
	}
	return []string{name}
}

// FindBinary returns the path of a real component, such as "prometheus",
// "prometheus-alertmanager" (or "alertmanager"), "amtool", "promtool" or
// "vmalert". It looks in PATH, then in /usr/bin. A missing component is a
// *MissingBinaryError.
func FindBinary(name string) (string, error) {
	for _, c := range candidates(name) {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
		if p, err := exec.LookPath(filepath.Join("/usr/bin", c)); err == nil {
			return p, nil
		}
	}
	return "", &MissingBinaryError{Name: name, Package: debianPackage(name)}
}

// Binary returns the path of a real component (see FindBinary). If it is
// missing, the test is skipped under go test -short and fails otherwise,
// with a message that says how to install it.
func Binary(t testing.TB, name string) string {
	t.Helper()
	return binary(t, name, testing.Short())
}

func binary(t testing.TB, name string, short bool) string {
	t.Helper()
	path, err := FindBinary(name)
	if err == nil {
		return path
	}
	if _, missing := errors.AsType[*MissingBinaryError](err); short && missing {
		t.Skip(err.Error())
		return ""
	}
	t.Fatal(err.Error())
	return ""
}
