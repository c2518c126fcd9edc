package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMissingBinaryErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"prometheus", []string{`"prometheus" not found`, `apt-get install -y prometheus"`, "make deps", ".ci/run", "-short"}},
		{"promtool", []string{`apt-get install -y prometheus"`}},
		{"prometheus-alertmanager", []string{`apt-get install -y prometheus-alertmanager"`}},
		{"amtool", []string{`apt-get install -y prometheus-alertmanager"`}},
		{"vmalert", []string{`apt-get install -y victoria-metrics"`}},
		{"definitely-missing", []string{`"definitely-missing" not found in PATH`, "install it and put it on PATH", "-short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := (&MissingBinaryError{Name: tt.name, Package: debianPackage(tt.name)}).Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// recordingTB records Skip and Fatal instead of ending the test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper()           {}
func (r *recordingTB) Skip(args ...any)  { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }

func TestBinaryMissing(t *testing.T) {
	tests := []struct {
		name      string
		short     bool
		wantSkip  bool
		wantFatal bool
	}{
		{name: "short skips", short: true, wantSkip: true},
		{name: "otherwise fails", short: false, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{}
			if got := binary(rec, "definitely-missing", tt.short); got != "" {
				t.Errorf("binary() = %q, want empty", got)
			}
			if (rec.skipped != "") != tt.wantSkip || (rec.fatal != "") != tt.wantFatal {
				t.Fatalf("skipped=%q fatal=%q; want skip %v, fatal %v", rec.skipped, rec.fatal, tt.wantSkip, tt.wantFatal)
			}
			msg := rec.skipped + rec.fatal
			if !strings.Contains(msg, `"definitely-missing" not found`) {
				t.Errorf("message %q does not name the component", msg)
			}
		})
	}
}

func TestFindBinaryMissing(t *testing.T) {
	_, err := FindBinary("definitely-missing")
	if _, ok := errors.AsType[*MissingBinaryError](err); !ok {
		t.Fatalf("FindBinary(definitely-missing) error = %v (%T), want *MissingBinaryError", err, err)
	}
}
